import { IsAccountEmail, IsPasswordField } from './field-rules';

export class LoginDto {
  @IsAccountEmail()
  email: string;

  @IsPasswordField()
  password: string;
}

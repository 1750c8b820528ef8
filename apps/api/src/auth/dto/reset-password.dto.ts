import { IsOpaqueToken, IsPasswordField } from './field-rules';

export class ResetPasswordDto {
  @IsOpaqueToken()
  token: string;

  @IsPasswordField()
  password: string;
}

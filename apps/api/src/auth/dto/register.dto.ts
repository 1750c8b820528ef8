import { IsOptional } from 'class-validator';
import { IsAccountEmail, IsDisplayName, IsPasswordField } from './field-rules';

export class RegisterDto {
  @IsAccountEmail()
  email: string;

  @IsPasswordField()
  password: string;

  @IsOptional()
  @IsDisplayName()
  name?: string;
}

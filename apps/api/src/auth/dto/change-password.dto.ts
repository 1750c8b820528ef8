import { IsPasswordField } from './field-rules';

export class ChangePasswordDto {
  @IsPasswordField()
  currentPassword: string;

  @IsPasswordField()
  newPassword: string;
}

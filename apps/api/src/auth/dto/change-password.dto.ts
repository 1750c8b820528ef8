import { ApiProperty } from '@nestjs/swagger';
import { ApiNewPassword, IsPasswordField, PASSWORD_RULES } from './field-rules.decorators';

export class ChangePasswordDto {
  @ApiProperty({ format: 'password', description: 'The password in use now' })
  @IsPasswordField()
  currentPassword: string;

  @ApiNewPassword(PASSWORD_RULES)
  @IsPasswordField()
  newPassword: string;
}

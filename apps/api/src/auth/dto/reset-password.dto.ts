import { ApiProperty } from '@nestjs/swagger';
import { ApiNewPassword, IsOpaqueToken, IsPasswordField, PASSWORD_RULES } from './field-rules.decorators';

export class ResetPasswordDto {
  @ApiProperty({ maxLength: 512, description: 'The token of the emailed reset link' })
  @IsOpaqueToken()
  token: string;

  @ApiNewPassword(`The new password. ${PASSWORD_RULES}`)
  @IsPasswordField()
  password: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { IsOpaqueToken, IsPasswordField } from './field-rules.decorators';

export class ResetPasswordDto {
  @ApiProperty({ maxLength: 512, description: 'The token of the emailed reset link' })
  @IsOpaqueToken()
  token: string;

  @ApiProperty({ format: 'password', minLength: 8, maxLength: 128, description: 'The new password' })
  @IsPasswordField()
  password: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { IsPasswordField } from './field-rules.decorators';

export class ChangePasswordDto {
  @ApiProperty({ format: 'password', description: 'The password in use now' })
  @IsPasswordField()
  currentPassword: string;

  @ApiProperty({ format: 'password', minLength: 8, maxLength: 128, description: 'PASSWORD_MIN_LENGTH (12 by default) to 128 characters; guessable passwords (strength below 3 of 4, the address and name of the user counting against it) and ones containing the address are refused' })
  @IsPasswordField()
  newPassword: string;
}

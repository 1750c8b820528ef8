import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsAccountEmail, IsDisplayName, IsPasswordField } from './field-rules';

export class RegisterDto {
  @ApiProperty({ format: 'email', maxLength: 254, example: 'ada@example.com' })
  @IsAccountEmail()
  email: string;

  @ApiProperty({ format: 'password', minLength: 8, maxLength: 128, description: 'PASSWORD_MIN_LENGTH (12 by default) to 128 characters; common passwords and the address are refused' })
  @IsPasswordField()
  password: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 100, example: 'Ada' })
  @IsOptional()
  @IsDisplayName()
  name?: string;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsAccountEmail, IsDisplayName, IsPasswordField } from './field-rules.decorators';

export class RegisterDto {
  @ApiProperty({ format: 'email', maxLength: 254, example: 'ada@example.com' })
  @IsAccountEmail()
  email: string;

  @ApiProperty({ format: 'password', minLength: 8, maxLength: 128, description: 'PASSWORD_MIN_LENGTH (12 by default) to 128 characters; guessable passwords (strength below 3 of 4, the address and name of the user counting against it) and ones containing the address are refused' })
  @IsPasswordField()
  password: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 100, example: 'Ada' })
  @IsOptional()
  @IsDisplayName()
  name?: string;
}

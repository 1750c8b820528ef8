import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { ApiNewPassword, IsAccountEmail, IsDisplayName, IsPasswordField, PASSWORD_RULES } from './field-rules.decorators';

export class RegisterDto {
  @ApiProperty({ format: 'email', maxLength: 254, example: 'ada@example.com' })
  @IsAccountEmail()
  email: string;

  @ApiNewPassword(PASSWORD_RULES)
  @IsPasswordField()
  password: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 100, example: 'Ada' })
  @IsOptional()
  @IsDisplayName()
  name?: string;
}

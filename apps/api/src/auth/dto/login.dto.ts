import { ApiProperty } from '@nestjs/swagger';
import { IsAccountEmail, IsPasswordField } from './field-rules.decorators';

export class LoginDto {
  @ApiProperty({ format: 'email', maxLength: 254, example: 'ada@example.com' })
  @IsAccountEmail()
  email: string;

  @ApiProperty({ format: 'password' })
  @IsPasswordField()
  password: string;
}

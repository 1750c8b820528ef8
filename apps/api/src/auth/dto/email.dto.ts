import { ApiProperty } from '@nestjs/swagger';
import { IsAccountEmail } from './field-rules.decorators';

/** Body of forgot-password and resend-confirmation. */
export class EmailDto {
  @ApiProperty({ format: 'email', maxLength: 254, example: 'ada@example.com' })
  @IsAccountEmail()
  email: string;
}

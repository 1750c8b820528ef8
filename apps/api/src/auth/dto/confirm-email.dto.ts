import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsOpaqueToken, IsPasswordField } from './field-rules.decorators';

export class ConfirmEmailDto {
  @ApiProperty({ maxLength: 512, description: 'The token of the emailed confirmation link' })
  @IsOpaqueToken()
  token: string;

  @ApiPropertyOptional({
    format: 'password',
    minLength: 8,
    maxLength: 128,
    description:
      'Required when the link carries no password (one sent by `email/resend`): the password the account gets, judged like a registration\'s. ' +
      'Refused (400 VALIDATION_FAILED) when the link carries the password of the registration that produced it.',
  })
  @IsOptional()
  @IsPasswordField()
  password?: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { IsAccountEmail, IsCurrentPasswordField, IsOpaqueToken } from './field-rules.decorators';

/** Body of POST /users/me/email. */
export class RequestEmailChangeDto {
  @ApiProperty({
    format: 'email',
    maxLength: 254,
    example: 'ada@example.org',
    description: 'The address to move to, under the rules of a registration; the current address (in any case) is refused',
  })
  @IsAccountEmail()
  newEmail: string;

  @IsCurrentPasswordField()
  currentPassword?: string;
}

/** Body of the confirm and undo operations of an email change. */
export class EmailChangeTokenDto {
  @ApiProperty({ maxLength: 512, description: 'The token of the emailed link' })
  @IsOpaqueToken()
  token: string;
}

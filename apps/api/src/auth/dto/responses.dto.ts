import { ApiProperty } from '@nestjs/swagger';

/** The shapes the API answers with; documentation only, the services build the objects. */
export class UserView {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'ada@example.com' })
  email: string;

  @ApiProperty({ type: String, nullable: true, example: 'Ada' })
  name: string | null;

  @ApiProperty()
  emailConfirmed: boolean;

  @ApiProperty({ description: 'Whether sign-in asks for a second factor (TOTP)' })
  mfaEnabled: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class UserResponse {
  @ApiProperty({ type: UserView })
  user: UserView;
}

export class SignedInResponse {
  @ApiProperty({ description: 'HS256 JWT; send as `Authorization: Bearer …`' })
  accessToken: string;

  @ApiProperty({ description: 'Single use: refresh rotates it; never refresh one token twice' })
  refreshToken: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType: 'Bearer';

  @ApiProperty({ type: 'integer', description: 'Lifetime of the access token in seconds', example: 900 })
  expiresIn: number;

  @ApiProperty({ type: UserView })
  user: UserView;
}

export class SessionResponse {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  lastUsedAt: string;

  @ApiProperty({ type: String, nullable: true })
  userAgent: string | null;

  @ApiProperty({ type: String, nullable: true })
  ip: string | null;

  @ApiProperty({ description: 'The session of the access token that asked' })
  current: boolean;
}

export class AcceptedResponse {
  @ApiProperty({ enum: ['accepted'] })
  status: 'accepted';
}

/** Register's 201; `status` tells it from the 202 without looking for `user`. */
export class RegisteredResponse {
  @ApiProperty({ enum: ['created'] })
  status: 'created';

  @ApiProperty({ type: UserView })
  user: UserView;
}

export class ConfirmationRequiredResponse {
  @ApiProperty({ enum: ['confirmation_required'] })
  status: 'confirmation_required';
}

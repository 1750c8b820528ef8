import { ApiProperty, OmitType } from '@nestjs/swagger';
import { EXPORTED_LINK_PURPOSES, type AccountExport } from '@accounts/auth';
import { ACTIVITY_TYPES, EXPORT_ACTIVITY_LIMIT, type ActivityType } from '@accounts/users';
import { SessionResponse, UserView } from '../../auth/dto/responses.dto';

/** The shapes of the account lifecycle's answers; documentation only, the services build the objects. */
export class ActivityItem {
  @ApiProperty({ description: 'Row id; monotonic' })
  id: string;

  @ApiProperty({ enum: [...ACTIVITY_TYPES] })
  type: ActivityType;

  @ApiProperty({ format: 'date-time' })
  at: string;

  @ApiProperty({ type: String, nullable: true })
  ip: string | null;

  @ApiProperty({ type: String, nullable: true })
  userAgent: string | null;
}

export class ActivityPageResponse {
  @ApiProperty({ type: [ActivityItem], description: 'Newest first' })
  items: ActivityItem[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `before` for the next page; null on the last page' })
  next: string | null;
}

export class ProfileExport extends UserView {
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  emailConfirmedAt: string | null;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

/** A session as stored, live or ended: what GET /auth/sessions shows of one, and when it ends or ended. */
export class SessionExport extends OmitType(SessionResponse, ['current'] as const) {
  @ApiProperty({ format: 'date-time' })
  expiresAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revokedAt: string | null;
}

export class EmailedLinkExport {
  @ApiProperty({ enum: EXPORTED_LINK_PURPOSES, description: 'What the emailed link was for' })
  purpose: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  expiresAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  usedAt: string | null;
}

export class IdentityExport {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ description: "The provider's issuer (`iss`)", example: 'https://accounts.google.com' })
  issuer: string;

  @ApiProperty({ description: "The provider's id for the user (`sub`)" })
  subject: string;

  @ApiProperty({ type: String, nullable: true, description: "The configured provider's label; null when its issuer is no longer configured", example: 'Google' })
  provider: string | null;

  @ApiProperty({ type: String, format: 'email', nullable: true, description: 'The address the provider asserted when the identity was linked' })
  email: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class MfaExport {
  @ApiProperty()
  enabled: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  enabledAt: string | null;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Unused recovery codes left (0 while MFA is off)' })
  recoveryCodesRemaining: number;
}

/** GET /users/me/export. A section added to AccountExportSections (libs/auth) gets its property here. */
export class AccountExportResponse {
  @ApiProperty({ format: 'date-time' })
  exportedAt: string;

  @ApiProperty({ type: ProfileExport })
  profile: ProfileExport;

  @ApiProperty({ type: [SessionExport], description: 'Every session, live or ended, newest first; no token' })
  sessions: SessionExport[];

  @ApiProperty({ type: [EmailedLinkExport], description: 'Confirmation and reset links sent, newest first; no token (email-change links are left out: they would tell which addresses are registered)' })
  emailedLinks: EmailedLinkExport[];

  @ApiProperty({ type: [IdentityExport], description: 'Identity provider accounts linked, oldest first' })
  identities: IdentityExport[];

  @ApiProperty({ type: MfaExport, description: 'Two-step sign-in: whether it is on and how many recovery codes are left; never the secret or a code' })
  mfa: MfaExport;

  @ApiProperty({ type: [ActivityItem], description: `The activity record, newest first: its newest ${EXPORT_ACTIVITY_LIMIT} rows (GET /users/me/activity pages through all of it)` })
  activity: ActivityItem[];
}

/** Every section of the export has a property above: a section added in libs/auth without one does not compile. */
export const EVERY_EXPORT_SECTION_DOCUMENTED: Exclude<keyof AccountExport, keyof AccountExportResponse> extends never ? true : never = true;

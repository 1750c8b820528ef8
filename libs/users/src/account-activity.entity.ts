import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/** The security events an account's activity record holds (SPEC §10). Never a password, token or code. */
export const ACTIVITY_TYPES = [
  'signin.succeeded',
  'signin.failed',
  'signin.mfa_failed',
  'password.changed',
  'password.reset',
  'email.change_requested',
  'email.changed',
  'email.change_undone',
  'session.revoked',
  'sessions.revoked_all',
  'mfa.enabled',
  'mfa.disabled',
  'mfa.recovery_code_used',
  'identity.linked',
  'identity.unlinked',
] as const;

export type ActivityType = (typeof ACTIVITY_TYPES)[number];

/**
 * One row of an account's append-only activity record. `userId` has no foreign key on purpose: the
 * rows outlive a deleted account (keeping only the id) until the retention purge takes them.
 */
@Entity({ tableName: 'account_activity' })
export class AccountActivity {
  /** Monotonic, so it doubles as the paging cursor (newest first). */
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'uuid' })
  userId: string;

  @Property({ type: 'string', length: 40 })
  type: ActivityType;

  @Property({ type: 'datetime' })
  at: Date = new Date();

  @Property({ type: 'string', length: 64, nullable: true })
  ip: string | null;

  @Property({ type: 'string', length: 512, nullable: true })
  userAgent: string | null;

  constructor(userId: string, type: ActivityType, ip: string | null, userAgent: string | null) {
    this.userId = userId;
    this.type = type;
    this.ip = ip;
    this.userAgent = userAgent;
  }
}

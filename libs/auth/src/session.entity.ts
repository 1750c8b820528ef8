import { randomUUID } from 'node:crypto';
import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { User } from '@accounts/users';

/** The first factor a session was opened with: a password, or a sign-in at an identity provider. */
export type SignInMethod = 'password' | 'provider';

/**
 * A signed-in session: one refresh-token family. Its refresh tokens rotate; its absolute lifetime
 * (`expiresAt`) never moves.
 */
@Entity({ tableName: 'sessions' })
export class Session {
  [OptionalProps]?: 'id' | 'createdAt' | 'lastUsedAt' | 'revokedAt' | 'userAgent' | 'ip' | 'signInMethod' | 'signedInAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user: Ref<User>;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime' })
  lastUsedAt: Date = new Date();

  @Property({ type: 'datetime' })
  expiresAt: Date;

  @Property({ type: 'datetime', nullable: true })
  revokedAt: Date | null = null;

  @Property({ type: 'string', length: 512, nullable: true })
  userAgent: string | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  ip: string | null = null;

  /** How the user proved themselves when this session began (re-authentication reads it). */
  @Property({ type: 'string', length: 16 })
  signInMethod: SignInMethod = 'password';

  /** When that sign-in happened; refreshing never moves it. */
  @Property({ type: 'datetime' })
  signedInAt: Date = new Date();

  isAlive(now = new Date()): boolean {
    return this.revokedAt === null && this.expiresAt > now;
  }
}

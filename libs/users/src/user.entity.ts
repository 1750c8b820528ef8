import { randomUUID } from 'node:crypto';
import { Entity, EntityRepositoryType, PrimaryKey, Property } from '@mikro-orm/core';
import { canonicalEmail, normalizeEmail } from './email.util';
import { UserRepository } from './user.repository';

@Entity({ tableName: 'users', repository: () => UserRepository })
export class User {
  [EntityRepositoryType]?: UserRepository;

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 254 })
  email: string;

  /** Lowercased NFC form, unique: the identity of the account. */
  @Property({ type: 'string', length: 254, unique: 'users_email_canonical_unique', hidden: true })
  emailCanonical: string;

  @Property({ type: 'string', length: 100, nullable: true })
  name: string | null = null;

  /** Null for an account created through an identity provider until a password is set (reset). */
  @Property({ type: 'text', hidden: true, lazy: false, nullable: true })
  passwordHash: string | null;

  @Property({ type: 'datetime', nullable: true })
  emailConfirmedAt: Date | null = null;

  /** Set while a second factor (TOTP, SPEC §11) guards every sign-in; the factor lives in libs/auth. */
  @Property({ type: 'datetime', nullable: true })
  mfaEnabledAt: Date | null = null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  constructor(email: string, passwordHash: string | null, name: string | null = null) {
    this.email = normalizeEmail(email);
    this.emailCanonical = canonicalEmail(email);
    this.passwordHash = passwordHash;
    this.name = name;
  }

  get emailConfirmed(): boolean {
    return this.emailConfirmedAt !== null;
  }
}

/**
 * A row of the `users` table as PostgreSQL returns it through the ORM's connection (column names;
 * times as PostgreSQL's text), for EntityManager.map or userViewOfRow.
 */
export interface UserRow {
  id: string;
  email: string;
  name: string | null;
  email_confirmed_at: string | null;
  mfa_enabled_at: string | null;
  created_at: string;
  [column: string]: unknown;
}

/** The public view of a user, as the API returns it. */
export interface UserView {
  id: string;
  email: string;
  name: string | null;
  emailConfirmed: boolean;
  mfaEnabled: boolean;
  createdAt: string;
}

export function toUserView(user: User): UserView {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    emailConfirmed: user.emailConfirmed,
    mfaEnabled: user.mfaEnabledAt !== null,
    createdAt: user.createdAt.toISOString(),
  };
}

/** toUserView of a `users` row, without making an entity of it first: the hot reads answer from rows. */
export function userViewOfRow(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    emailConfirmed: row.email_confirmed_at !== null,
    mfaEnabled: row.mfa_enabled_at !== null,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

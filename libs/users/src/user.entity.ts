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

  @Property({ type: 'text', hidden: true, lazy: false })
  passwordHash: string;

  @Property({ type: 'datetime', nullable: true })
  emailConfirmedAt: Date | null = null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  constructor(email: string, passwordHash: string, name: string | null = null) {
    this.email = normalizeEmail(email);
    this.emailCanonical = canonicalEmail(email);
    this.passwordHash = passwordHash;
    this.name = name;
  }

  get emailConfirmed(): boolean {
    return this.emailConfirmedAt !== null;
  }
}

/** A row of the `users` table as PostgreSQL returns it (column names), for EntityManager.map. */
export type UserRow = Record<string, unknown>;

/** The public view of a user, as the API returns it. */
export interface UserView {
  id: string;
  email: string;
  name: string | null;
  emailConfirmed: boolean;
  createdAt: string;
}

export function toUserView(user: User): UserView {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    emailConfirmed: user.emailConfirmed,
    createdAt: user.createdAt.toISOString(),
  };
}

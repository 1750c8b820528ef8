import { randomUUID } from 'node:crypto';
import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { User } from '@accounts/users';

export enum TokenPurpose {
  EmailConfirmation = 'email_confirmation',
  PasswordReset = 'password_reset',
  /** Mailed to a requested new address; carries that address (`email`). */
  EmailChange = 'email_change',
  /** Mailed to the old address after a change; carries the address it restores (`email`). */
  EmailChangeUndo = 'email_change_undo',
}

/** A single-use, expiring token sent by email. Only its hash is stored. */
@Entity({ tableName: 'one_time_tokens' })
export class OneTimeToken {
  [OptionalProps]?: 'id' | 'usedAt' | 'createdAt' | 'passwordHash' | 'email' | 'emailConfirmed';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user: Ref<User>;

  @Enum({ items: () => TokenPurpose })
  purpose: TokenPurpose;

  @Property({ type: 'string', length: 64, unique: 'one_time_tokens_token_hash_unique' })
  tokenHash: string;

  @Property({ type: 'datetime' })
  expiresAt: Date;

  /**
   * Confirmation tokens only: the password of the registration that produced the link, activated
   * when the link is used (an unconfirmed account is a claim; SPEC §5).
   */
  @Property({ type: 'text', nullable: true, hidden: true })
  passwordHash: string | null = null;

  /** Email change tokens only: the address the token switches to (change) or restores (undo). */
  @Property({ type: 'string', length: 254, nullable: true })
  email: string | null = null;

  /** Undo tokens only: whether the address they restore had been confirmed. */
  @Property({ type: 'boolean', nullable: true })
  emailConfirmed: boolean | null = null;

  @Property({ type: 'datetime', nullable: true })
  usedAt: Date | null = null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}

import { randomUUID } from 'node:crypto';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { PreparedStatements, type SqlFragment } from '@accounts/database';
import type { User } from '@accounts/users';
import { OneTimeToken, TokenPurpose } from './one-time-token.entity';
import { generateSecretToken, hashSecretToken } from './secret-token.util';
import { InvalidTokenError } from './tokens.errors';

/** What spending a token yields. */
export interface SpentToken {
  userId: string;
  /** The password hash the token was issued with (confirmation and email change tokens), else null. */
  passwordHash: string | null;
  /** The address the token was issued with (email change and undo tokens), else null. */
  email: string | null;
  /** Undo tokens: whether the address they restore had been confirmed, else null. */
  emailConfirmed: boolean | null;
  /** The database-assigned issue order (`seq`), as a decimal string. */
  issueOrder: string;
}

/** What looking at a live token yields, without spending it. */
export interface PeekedToken {
  user: User;
  /** Whether the token was issued with a password hash (see `issue`). */
  carriesPassword: boolean;
}

/**
 * Undo links are never superseded: each restores the address it was mailed to, and a later change
 * (by whoever holds the session) must not cancel the undo of an earlier one.
 */
const NEVER_SUPERSEDED: ReadonlySet<TokenPurpose> = new Set([TokenPurpose.EmailChangeUndo]);

/**
 * Confirmation, reset and email change tokens: issue, look up, spend. Every method takes the caller's entity
 * manager so it joins the caller's transaction.
 */
@Injectable()
export class TokensService {
  constructor(private readonly prepared: PreparedStatements) {}

  /**
   * Issues a token and supersedes every outstanding one of the same purpose (undo links excepted).
   * Returns the token itself; only its hash is stored. `passwordHash`, `email` and `emailConfirmed`
   * travel with the token until it is spent.
   */
  async issue(
    em: EntityManager,
    user: User,
    purpose: TokenPurpose,
    ttlMs: number,
    passwordHash: string | null = null,
    email: string | null = null,
    emailConfirmed: boolean | null = null,
  ): Promise<string> {
    if (!NEVER_SUPERSEDED.has(purpose)) await this.revokeOutstanding(em, user.id, purpose);
    const token = generateSecretToken();
    const record = em.create(OneTimeToken, {
      user,
      purpose,
      tokenHash: hashSecretToken(token),
      expiresAt: new Date(Date.now() + ttlMs),
      passwordHash,
      email,
      emailConfirmed,
    });
    em.persist(record);
    return token;
  }

  /**
   * issue() as ONE statement of its own, for the hot path that mails a token (forgot-password): it
   * supersedes the outstanding tokens of the purpose, stores the new one and runs what `alongside`
   * returns for the token (an `insert … select … from holder`, such as the event that mails it),
   * all only while the account still has the address it was read with, so a link never goes to an
   * address the account has left meanwhile. `holder` is the account's row held FOR SHARE: that
   * waits for any flow holding the row to change it (an email-change undo or confirmation, a reset)
   * and then reads the address it committed. FOR KEY SHARE would not wait, and a link for the
   * address an undo is taking the account from would outlive the undo's spending of every token.
   * Returns the token, or null when the account is gone or moved.
   */
  async issueAlone(
    user: Pick<User, 'id' | 'email'>,
    purpose: TokenPurpose,
    ttlMs: number,
    alongside: (token: string) => SqlFragment,
  ): Promise<string | null> {
    const token = generateSecretToken();
    const also = alongside(token);
    const supersede = NEVER_SUPERSEDED.has(purpose)
      ? ''
      : `superseded as (
           update one_time_tokens set used_at = now()
            where user_id in (select id from holder) and purpose = ? and used_at is null
         ),`;
    const held = await this.prepared.rows(
      `with holder as (
         select id from users where id = ? and email = ? for share
       ), ${supersede} issued as (
         insert into one_time_tokens (id, user_id, purpose, token_hash, expires_at, created_at)
         select ?, id, ?, ?, ?, now() from holder
       ), alongside as (
         ${also.sql}
       )
       select id from holder`,
      [
        user.id,
        user.email,
        ...(NEVER_SUPERSEDED.has(purpose) ? [] : [purpose]),
        randomUUID(),
        purpose,
        hashSecretToken(token),
        new Date(Date.now() + ttlMs),
        ...also.params,
      ],
    );
    return held.length === 1 ? token : null;
  }

  /** The user a live token belongs to, and whether it carries a password, without spending it. */
  async peek(em: EntityManager, purpose: TokenPurpose, token: string): Promise<PeekedToken> {
    const record = await em.findOne(
      OneTimeToken,
      { tokenHash: hashSecretToken(token), purpose, usedAt: null, expiresAt: { $gt: new Date() } },
      { populate: ['user'] },
    );
    if (!record) throw new InvalidTokenError();
    return { user: record.user.getEntity(), carriesPassword: record.passwordHash !== null };
  }

  /**
   * Spends a token atomically: of any number of concurrent attempts exactly one gets its user.
   */
  async consume(em: EntityManager, purpose: TokenPurpose, token: string): Promise<SpentToken> {
    const rows: Array<{ user_id: string; password_hash: string | null; email: string | null; email_confirmed: boolean | null; seq: string }> = await em.getConnection().execute(
      `update one_time_tokens set used_at = now()
        where token_hash = ? and purpose = ? and used_at is null and expires_at > now()
        returning user_id, password_hash, email, email_confirmed, seq::text as seq`,
      [hashSecretToken(token), purpose],
      'all',
      em.getTransactionContext(),
    );
    if (rows.length === 0) throw new InvalidTokenError();
    const [row] = rows;
    return { userId: row.user_id, passwordHash: row.password_hash, email: row.email, emailConfirmed: row.email_confirmed, issueOrder: row.seq };
  }

  /** Spends every outstanding token of a purpose (a new one supersedes them; a reset spends all). */
  async revokeOutstanding(em: EntityManager, userId: string, purpose: TokenPurpose): Promise<void> {
    await em.nativeUpdate(OneTimeToken, { user: userId, purpose, usedAt: null }, { usedAt: new Date() });
  }

  /**
   * Spends every outstanding token of the user, of every purpose, except undo links issued before
   * the one spent (`issueOrder`): those restore an earlier address and stay usable (an undo of a
   * later change must not cancel the undo of an earlier one). The order is the database's sequence,
   * not an app host's clock.
   */
  async revokeAll(em: EntityManager, userId: string, keepUndoIssuedBefore: string): Promise<void> {
    await em.getConnection().execute(
      `update one_time_tokens set used_at = now()
        where user_id = ? and used_at is null and not (purpose = ? and seq < ?::bigint)`,
      [userId, TokenPurpose.EmailChangeUndo, keepUndoIssuedBefore],
      'run',
      em.getTransactionContext(),
    );
  }

  /** Outstanding tokens of a purpose stop carrying a password: using one then asks for it. */
  async forgetPasswords(em: EntityManager, userId: string, purpose: TokenPurpose): Promise<void> {
    await em.nativeUpdate(OneTimeToken, { user: userId, purpose, usedAt: null }, { passwordHash: null });
  }
}

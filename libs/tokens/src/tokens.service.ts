import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import type { User } from '@accounts/users';
import { OneTimeToken, TokenPurpose } from './one-time-token.entity';
import { generateSecretToken, hashSecretToken } from './secret-token.util';
import { InvalidTokenError } from './tokens.errors';

/** What spending a token yields. */
export interface SpentToken {
  userId: string;
  /** The password hash the token was issued with (confirmation tokens), else null. */
  passwordHash: string | null;
}

/** What looking at a live token yields, without spending it. */
export interface PeekedToken {
  user: User;
  /** Whether the token was issued with a password hash (see `issue`). */
  carriesPassword: boolean;
}

/**
 * Confirmation and reset tokens: issue, look up, spend. Every method takes the caller's entity
 * manager so it joins the caller's transaction.
 */
@Injectable()
export class TokensService {
  /**
   * Issues a token and supersedes every outstanding one of the same purpose. Returns the token
   * itself; only its hash is stored. `passwordHash` travels with the token until it is spent.
   */
  async issue(em: EntityManager, user: User, purpose: TokenPurpose, ttlMs: number, passwordHash: string | null = null): Promise<string> {
    await this.revokeOutstanding(em, user.id, purpose);
    const token = generateSecretToken();
    const record = em.create(OneTimeToken, {
      user,
      purpose,
      tokenHash: hashSecretToken(token),
      expiresAt: new Date(Date.now() + ttlMs),
      passwordHash,
    });
    em.persist(record);
    return token;
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
    const rows: Array<{ user_id: string; password_hash: string | null }> = await em.getConnection().execute(
      `update one_time_tokens set used_at = now()
        where token_hash = ? and purpose = ? and used_at is null and expires_at > now()
        returning user_id, password_hash`,
      [hashSecretToken(token), purpose],
      'all',
      em.getTransactionContext(),
    );
    if (rows.length === 0) throw new InvalidTokenError();
    return { userId: rows[0].user_id, passwordHash: rows[0].password_hash };
  }

  /** Spends every outstanding token of a purpose (a new one supersedes them; a reset spends all). */
  async revokeOutstanding(em: EntityManager, userId: string, purpose: TokenPurpose): Promise<void> {
    await em.nativeUpdate(OneTimeToken, { user: userId, purpose, usedAt: null }, { usedAt: new Date() });
  }

  /** Outstanding tokens of a purpose stop carrying a password: using one then asks for it. */
  async forgetPasswords(em: EntityManager, userId: string, purpose: TokenPurpose): Promise<void> {
    await em.nativeUpdate(OneTimeToken, { user: userId, purpose, usedAt: null }, { passwordHash: null });
  }
}

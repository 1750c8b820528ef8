import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { generateSecretToken, hashSecretToken } from '@accounts/tokens';
import { AccountActivityService, type ClientMeta, type User } from '@accounts/users';
import { RateLimits } from '../rate-limits.service';
import type { SignInMethod } from '../session.entity';
import { InvalidMfaCodeError, InvalidMfaTokenError, MfaSetupRequiredError } from './mfa.errors';
import { MfaCrypto } from './mfa.crypto';
import { newRecoveryCodes } from './recovery-codes.util';
import { isTotpCode, matchingTotpStep } from './totp.util';

/** SPEC §11: a sign-in's second step lives 5 minutes and takes at most 5 codes. */
export const MFA_CHALLENGE_TTL_SECONDS = 300;
export const MFA_CHALLENGE_MAX_ATTEMPTS = 5;

/** What finishes a sign-in's second step: a code from the authenticator app, or a recovery code. */
export type MfaProof = { code: string } | { recoveryCode: string };

/** Which factor a proof spent; for a recovery code, how many unused ones are left. */
export type SpentProof = { kind: 'totp' } | { kind: 'recovery'; remaining: number };

/**
 * The TOTP factor, its recovery codes and the challenges of a sign-in's second step, in the
 * caller's unit of work. Every spend is one conditional UPDATE, so of parallel requests with the
 * same code, recovery code or challenge exactly one wins, whatever the isolation level.
 */
@Injectable()
export class MfaFactor {
  constructor(
    private readonly crypto: MfaCrypto,
    private readonly limits: RateLimits,
    private readonly activity: AccountActivityService,
  ) {}

  /**
   * Runs `work` under the per-account limit on wrong codes: a point is taken before any code is
   * looked at and given back unless the code was wrong (TooManyRequestsError once none is left).
   */
  guardCodes<T>(userId: string, work: () => Promise<T>): Promise<T> {
    return this.limits.guard('mfaPerAccount', userId, work, (error) => error instanceof InvalidMfaCodeError);
  }

  /** Stores a new pending secret, replacing a pending one; an enabled factor is left alone. */
  async storePending(em: EntityManager, userId: string, secret: string): Promise<void> {
    await run(
      em,
      `insert into mfa_totp (user_id, secret_ciphertext, enabled_at, last_used_step, created_at) values (?, ?, null, null, now())
       on conflict (user_id) do update set secret_ciphertext = excluded.secret_ciphertext, last_used_step = null, created_at = now()
       where mfa_totp.enabled_at is null`,
      [userId, this.crypto.sealSecret(secret, userId)],
    );
  }

  /** Turns the pending secret into the account's factor. */
  async enable(em: EntityManager, userId: string): Promise<void> {
    await run(em, 'update mfa_totp set enabled_at = now() where user_id = ? and enabled_at is null', [userId]);
  }

  /** Forgets the factor, its recovery codes and any sign-in waiting for a code. */
  async remove(em: EntityManager, userId: string): Promise<void> {
    await run(em, 'delete from mfa_totp where user_id = ?', [userId]);
    await run(em, 'delete from mfa_recovery_codes where user_id = ?', [userId]);
    await this.voidChallenges(em, userId);
  }

  /**
   * Removes whatever factor an account set up before its address was confirmed (pending or on),
   * when the owner of the inbox proves it (a reset): it may be the work of someone who registered
   * the owner's address, and must not lock the owner out. A factor that was on is recorded as `mfa.disabled`.
   */
  async removeUnproven(em: EntityManager, user: User, client: ClientMeta): Promise<void> {
    await this.remove(em, user.id);
    if (!user.mfaEnabledAt) return;
    user.mfaEnabledAt = null;
    this.activity.record(em, user.id, 'mfa.disabled', client);
  }

  /**
   * Accepts a TOTP code of the account's secret (enabled, or the pending one while enabling) once:
   * its time step must be later than the last one used, so a code is never accepted twice, nor an
   * older one after it. Throws InvalidMfaCodeError (or MfaSetupRequiredError: nothing pending).
   */
  async spendTotpCode(em: EntityManager, userId: string, code: string, state: 'enabled' | 'pending'): Promise<void> {
    const rows = await run<{ secret_ciphertext: string }>(
      em,
      `select secret_ciphertext from mfa_totp where user_id = ? and enabled_at is ${state === 'enabled' ? 'not ' : ''}null`,
      [userId],
    );
    if (rows.length === 0) throw state === 'pending' ? new MfaSetupRequiredError() : new InvalidMfaCodeError();
    const step = matchingTotpStep(this.crypto.openSecret(rows[0].secret_ciphertext, userId), code);
    if (step === null) throw new InvalidMfaCodeError();
    const spent = await run(
      em,
      'update mfa_totp set last_used_step = ? where user_id = ? and (last_used_step is null or last_used_step < ?) returning user_id',
      [step, userId, step],
    );
    if (spent.length === 0) throw new InvalidMfaCodeError();
  }

  /** Spends one unused recovery code (recorded in the account activity); returns how many are left. */
  async spendRecoveryCode(em: EntityManager, userId: string, code: string, client: ClientMeta): Promise<number> {
    const spent = await run(
      em,
      'update mfa_recovery_codes set used_at = now() where user_id = ? and code_digest = ? and used_at is null returning id',
      [userId, this.crypto.digestRecoveryCode(code, userId)],
    );
    if (spent.length === 0) throw new InvalidMfaCodeError();
    this.activity.record(em, userId, 'mfa.recovery_code_used', client);
    const [{ remaining }] = await run<{ remaining: number }>(
      em,
      'select count(*)::int as remaining from mfa_recovery_codes where user_id = ? and used_at is null',
      [userId],
    );
    return remaining;
  }

  /** A proof of the enabled factor: a TOTP code, or a recovery code. */
  async spendProof(em: EntityManager, userId: string, proof: MfaProof, client: ClientMeta): Promise<SpentProof> {
    if ('code' in proof) {
      await this.spendTotpCode(em, userId, proof.code, 'enabled');
      return { kind: 'totp' };
    }
    return { kind: 'recovery', remaining: await this.spendRecoveryCode(em, userId, proof.recoveryCode, client) };
  }

  /** One field that takes either: six digits are a TOTP code, anything else a recovery code. */
  spendEitherCode(em: EntityManager, userId: string, code: string, client: ClientMeta): Promise<SpentProof> {
    const compact = code.replace(/\s/g, '');
    return this.spendProof(em, userId, isTotpCode(compact) ? { code: compact } : { recoveryCode: code }, client);
  }

  /** A new set of recovery codes; the old set stops working. Returns the codes, which are stored only as digests. */
  async replaceRecoveryCodes(em: EntityManager, userId: string): Promise<string[]> {
    await run(em, 'delete from mfa_recovery_codes where user_id = ?', [userId]);
    const codes = newRecoveryCodes();
    const rows = codes.map(() => '(?, ?, ?, null, now())').join(', ');
    await run(
      em,
      `insert into mfa_recovery_codes (id, user_id, code_digest, used_at, created_at) values ${rows}`,
      codes.flatMap((code) => [randomUUID(), userId, this.crypto.digestRecoveryCode(code, userId)]),
    );
    return codes;
  }

  /**
   * Opens a sign-in's second step and returns its token (only its SHA-256 is stored). Spent and
   * expired challenges of the account are swept on the way.
   */
  async issueChallenge(em: EntityManager, userId: string, signInMethod: SignInMethod): Promise<string> {
    await run(em, 'delete from mfa_challenges where user_id = ? and (used_at is not null or expires_at <= now())', [userId]);
    const token = generateSecretToken();
    await run(
      em,
      `insert into mfa_challenges (id, user_id, token_hash, sign_in_method, attempts, expires_at, created_at)
       values (?, ?, ?, ?, 0, now() + make_interval(secs => ?), now())`,
      [randomUUID(), userId, hashSecretToken(token), signInMethod, MFA_CHALLENGE_TTL_SECONDS],
    );
    return token;
  }

  /**
   * Counts one code attempt against a live challenge, committed on its own before the code is
   * looked at, so parallel guesses cannot outrun the 5 attempts. Throws InvalidMfaTokenError for a
   * token that is unknown, expired, spent or out of attempts.
   */
  async attemptChallenge(em: EntityManager, token: string): Promise<{ id: string; userId: string; signInMethod: SignInMethod }> {
    const rows = await run<{ id: string; user_id: string; sign_in_method: SignInMethod }>(
      em,
      `update mfa_challenges set attempts = attempts + 1
        where token_hash = ? and used_at is null and expires_at > now() and attempts < ?
        returning id, user_id, sign_in_method`,
      [hashSecretToken(token), MFA_CHALLENGE_MAX_ATTEMPTS],
    );
    if (rows.length === 0) throw new InvalidMfaTokenError();
    return { id: rows[0].id, userId: rows[0].user_id, signInMethod: rows[0].sign_in_method };
  }

  /** Spends a challenge: of parallel second steps on one token, one signs in. */
  async spendChallenge(em: EntityManager, id: string): Promise<void> {
    const rows = await run(em, 'update mfa_challenges set used_at = now() where id = ? and used_at is null and expires_at > now() returning id', [id]);
    if (rows.length === 0) throw new InvalidMfaTokenError();
  }

  /** Ends every sign-in waiting for its second step (a new password, MFA turned off). */
  async voidChallenges(em: EntityManager, userId: string): Promise<void> {
    await run(em, 'delete from mfa_challenges where user_id = ?', [userId]);
  }
}

function run<T = Record<string, unknown>>(em: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  return em.getConnection().execute(sql, params, 'all', em.getTransactionContext());
}

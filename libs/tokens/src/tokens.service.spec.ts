import type { EntityManager } from '@mikro-orm/postgresql';
import type { User } from '@accounts/users';
import { TokenPurpose } from './one-time-token.entity';
import { hashSecretToken } from './secret-token.util';
import { InvalidTokenError } from './tokens.errors';
import { TokensService } from './tokens.service';

/** The entity manager faked at its edge: what is created, persisted, updated and executed. */
function fakeEm(answers: { rows?: unknown[]; found?: unknown } = {}) {
  const transaction = {};
  const execute = jest.fn().mockResolvedValue(answers.rows ?? []);
  const em = {
    create: jest.fn((_entity: unknown, data: object) => ({ ...data })),
    persist: jest.fn(),
    nativeUpdate: jest.fn().mockResolvedValue(0),
    findOne: jest.fn().mockResolvedValue(answers.found ?? null),
    getConnection: () => ({ execute }),
    getTransactionContext: () => transaction,
  };
  return { em, execute, transaction, asEm: em as unknown as EntityManager };
}

const user = { id: 'user-1' } as User;

describe('TokensService', () => {
  // Its one-statement path (issueAlone) runs on PostgreSQL in the end-to-end specs.
  const tokens = new TokensService({} as never);

  it('issues a token whose hash only is stored, after superseding the outstanding ones of its purpose', async () => {
    const { em, asEm } = fakeEm();
    const before = Date.now();
    const token = await tokens.issue(asEm, user, TokenPurpose.PasswordReset, 60_000, null);
    expect(em.nativeUpdate).toHaveBeenCalledWith(expect.anything(), { user: 'user-1', purpose: TokenPurpose.PasswordReset, usedAt: null }, { usedAt: expect.any(Date) });
    expect(em.nativeUpdate.mock.invocationCallOrder[0]).toBeLessThan(em.persist.mock.invocationCallOrder[0]);
    const stored = em.persist.mock.calls[0][0] as { tokenHash: string; expiresAt: Date; passwordHash: string | null };
    expect(stored.tokenHash).toBe(hashSecretToken(token));
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(stored.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 60_000);
    expect(stored.passwordHash).toBeNull();
  });

  it('spends a token in one UPDATE of the caller\'s transaction, by its hash, and yields its user and password hash', async () => {
    const { execute, transaction, asEm } = fakeEm({ rows: [{ user_id: 'user-1', password_hash: 'hash', email: null, email_confirmed: null, seq: '42' }] });
    await expect(tokens.consume(asEm, TokenPurpose.EmailConfirmation, 'the-token')).resolves.toEqual({ userId: 'user-1', passwordHash: 'hash', email: null, emailConfirmed: null, issueOrder: '42' });
    const [sql, params, , ctx] = execute.mock.calls[0];
    expect(sql).toMatch(/^update one_time_tokens set used_at = now\(\)/);
    expect(params).toEqual([hashSecretToken('the-token'), TokenPurpose.EmailConfirmation]);
    expect(ctx).toBe(transaction);
  });

  it('refuses a token that is unknown, spent, expired or of another purpose', async () => {
    const { asEm } = fakeEm({ rows: [] });
    await expect(tokens.consume(asEm, TokenPurpose.PasswordReset, 'nope')).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(tokens.peek(asEm, TokenPurpose.PasswordReset, 'nope')).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('peeks at a live token without spending it, and says whether it carries a password', async () => {
    const record = { user: { getEntity: () => user }, passwordHash: null };
    const { em, execute, asEm } = fakeEm({ found: record });
    await expect(tokens.peek(asEm, TokenPurpose.EmailConfirmation, 'live')).resolves.toEqual({ user, carriesPassword: false });
    expect(em.findOne).toHaveBeenCalledWith(
      expect.anything(),
      expect.objectContaining({ tokenHash: hashSecretToken('live'), purpose: TokenPurpose.EmailConfirmation, usedAt: null }),
      expect.anything(),
    );
    expect(execute).not.toHaveBeenCalled();
    expect(em.nativeUpdate).not.toHaveBeenCalled();
  });

  it('keeps the address an email change token is about, and yields it when spent', async () => {
    const { em, asEm } = fakeEm();
    await tokens.issue(asEm, user, TokenPurpose.EmailChange, 60_000, null, 'new@example.com');
    expect(em.persist.mock.calls[0][0]).toMatchObject({ purpose: TokenPurpose.EmailChange, email: 'new@example.com', passwordHash: null });
    const spent = fakeEm({ rows: [{ user_id: 'user-1', password_hash: null, email: 'new@example.com', seq: '7' }] });
    await expect(tokens.consume(spent.asEm, TokenPurpose.EmailChange, 't')).resolves.toMatchObject({ email: 'new@example.com' });
  });

  it('never supersedes an undo link: a later change must not cancel the undo of an earlier one', async () => {
    const { em, asEm } = fakeEm();
    await tokens.issue(asEm, user, TokenPurpose.EmailChangeUndo, 60_000, null, 'old@example.com');
    expect(em.nativeUpdate).not.toHaveBeenCalled();
    expect(em.persist).toHaveBeenCalledTimes(1);
  });

  it('spends every outstanding token of every purpose but the undo links issued before a given one, by the database\'s order', async () => {
    const { execute, transaction, asEm } = fakeEm();
    await tokens.revokeAll(asEm, 'user-1', '42');
    const [sql, params, , ctx] = execute.mock.calls[0];
    expect(sql).toMatch(/update one_time_tokens set used_at = now\(\)\s+where user_id = \? and used_at is null and not \(purpose = \? and seq < \?::bigint\)/);
    expect(params).toEqual(['user-1', TokenPurpose.EmailChangeUndo, '42']);
    expect(ctx).toBe(transaction);
  });
});

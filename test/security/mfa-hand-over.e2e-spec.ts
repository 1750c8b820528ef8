import { createHash, randomBytes } from 'node:crypto';
import { enableMfa, mfaTokenFor } from '../support/mfa';
import { createAccount, expectProblem, requestResetToken, signIn, type Account } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { awayFromStepEdge, totpCode } from '../support/totp';
import { strongPassword } from '../support/unique';

/**
 * What a second factor, and sign-ins in flight, leave behind when an account changes hands or its
 * credentials change (SPEC §11 with §5 and §12), in the default configuration
 * (EMAIL_CONFIRMATION_REQUIRED=false: anyone may register someone else's address and sign in).
 * Limits on, as in production.
 */
describe('security: MFA when an account changes hands', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_AUTH_PER_IP: '100000/15m' } });
  });
  afterAll(() => stack?.close());

  const count = async (sql: string, params: unknown[]) => (await stack.sql<{ n: number }>(`select count(*)::int as n from ${sql}`, params))[0].n;
  const activity = (userId: string, type: string) => count('account_activity where user_id = ? and type = ?', [userId, type]);
  const unconfirm = (account: Account) => stack.sql('update users set email_confirmed_at = null where id = ?', [account.userId]);
  const reset = async (account: Account) => {
    const password = strongPassword();
    const token = await requestResetToken(stack, account.email);
    expect((await stack.api.post('/auth/password/reset', { token, password })).status).toBe(204);
    return password;
  };
  /** A one-time exchange code as an identity provider's sign-in for an API consumer leaves it (60 s). */
  const exchangeCodeFor = async (account: Account) => {
    const code = randomBytes(32).toString('base64url');
    await stack.sql(
      `insert into oidc_exchange_codes (code_hash, user_id, provider, redirect_uri, expires_at) values (?, ?, 'test', 'https://app.example.test/cb', now() + interval '60 seconds')`,
      [createHash('sha256').update(code).digest('hex'), account.userId],
    );
    return code;
  };

  describe('a claimant of an unconfirmed address', () => {
    it('cannot set MFA up or turn it on before the address is confirmed (403 EMAIL_NOT_CONFIRMED)', async () => {
      const claimant = await createAccount(stack, { label: 'mfa-unconfirmed', confirmed: false });
      const session = await signIn(stack, claimant.email, claimant.password);
      const setup = await stack.api.post('/auth/mfa/totp/setup', { currentPassword: claimant.password }, session.accessToken);
      expectProblem(setup, 403, 'EMAIL_NOT_CONFIRMED');
      expect(setup.body.detail).toMatch(/confirm your email address before turning on two-step sign-in/i);
      expect(await count('mfa_totp where user_id = ?', [claimant.userId])).toBe(0);

      // A secret left pending from before (set up while confirmed, say) does not turn on either.
      await stack.sql('update users set email_confirmed_at = now() where id = ?', [claimant.userId]);
      const pending = await stack.api.post('/auth/mfa/totp/setup', { currentPassword: claimant.password }, session.accessToken);
      expect(pending.status).toBe(200);
      await unconfirm(claimant);
      expectProblem(await stack.api.post('/auth/mfa/totp/enable', { code: totpCode(pending.body.secret) }, session.accessToken), 403, 'EMAIL_NOT_CONFIRMED');
      const [row] = await stack.sql<{ mfa_enabled_at: unknown }>('select mfa_enabled_at from users where id = ?', [claimant.userId]);
      expect(row.mfa_enabled_at).toBeNull();
    });

    it("loses a factor set up before the owner's reset confirms the address; the owner signs in with the password alone", async () => {
      // An account whose factor predates the confirmation check: on, then the address unconfirmed.
      const claimant = await createAccount(stack, { label: 'mfa-prehijack' });
      const { secret } = await enableMfa(stack, claimant);
      const waiting = await mfaTokenFor(stack, claimant);
      await unconfirm(claimant);

      const ownersPassword = await reset(claimant);
      const [row] = await stack.sql<{ email_confirmed_at: unknown; mfa_enabled_at: unknown }>(
        'select email_confirmed_at, mfa_enabled_at from users where id = ?',
        [claimant.userId],
      );
      expect(row.email_confirmed_at).not.toBeNull();
      expect(row.mfa_enabled_at).toBeNull();
      for (const table of ['mfa_totp', 'mfa_recovery_codes', 'mfa_challenges']) expect(await count(`${table} where user_id = ?`, [claimant.userId])).toBe(0);
      expect(await activity(claimant.userId, 'mfa.disabled')).toBe(1);

      const login = await stack.api.post('/auth/login', { email: claimant.email, password: ownersPassword });
      expect(login.status).toBe(200);
      expect(login.body.user).toMatchObject({ emailConfirmed: true, mfaEnabled: false });
      // The claimant's second step, taken before, is gone with the factor.
      await awayFromStepEdge();
      expectProblem(await stack.api.post('/auth/login/mfa', { mfaToken: waiting, code: totpCode(secret, 1) }), 401, 'INVALID_MFA_TOKEN');
    });

    it('loses a pending setup too, with no mfa.disabled recorded (nothing was on)', async () => {
      const claimant = await createAccount(stack, { label: 'mfa-prehijack-pending' });
      const session = await signIn(stack, claimant.email, claimant.password);
      expect((await stack.api.post('/auth/mfa/totp/setup', { currentPassword: claimant.password }, session.accessToken)).status).toBe(200);
      await unconfirm(claimant);
      await reset(claimant);
      expect(await count('mfa_totp where user_id = ?', [claimant.userId])).toBe(0);
      expect(await activity(claimant.userId, 'mfa.disabled')).toBe(0);
    });
  });

  it('a reset of a confirmed account leaves MFA on (SPEC §11)', async () => {
    const account = await createAccount(stack, { label: 'mfa-confirmed-reset' });
    await enableMfa(stack, account);
    const password = await reset(account);
    expectProblem(await stack.api.post('/auth/login', { email: account.email, password }), 401, 'MFA_REQUIRED');
    expect(await count('mfa_totp where user_id = ? and enabled_at is not null', [account.userId])).toBe(1);
    expect(await activity(account.userId, 'mfa.disabled')).toBe(0);
  });

  it("turning MFA on ends every other session (refresh and access tokens) and keeps the caller's", async () => {
    const account = await createAccount(stack, { label: 'mfa-enable-sessions' });
    const stolen = await signIn(stack, account.email, account.password);
    const { session: caller } = await enableMfa(stack, account);

    expectProblem(await stack.api.post('/auth/refresh', { refreshToken: stolen.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
    expectProblem(await stack.api.get('/users/me', stolen.accessToken), 401);
    expect((await stack.api.get('/users/me', caller.accessToken)).body.user).toMatchObject({ id: account.userId, mfaEnabled: true });
    expect((await stack.api.post('/auth/refresh', { refreshToken: caller.refreshToken })).status).toBe(200);
  });

  it('a password reset lifts the per-account limit on wrong codes (RATE_LIMIT_MFA_PER_ACCOUNT)', async () => {
    const account = await createAccount(stack, { label: 'mfa-limit-reset' });
    const { secret } = await enableMfa(stack, account);
    for (const mfaToken of [await mfaTokenFor(stack, account), await mfaTokenFor(stack, account)]) {
      for (let i = 0; i < 5; i++) await stack.api.post('/auth/login/mfa', { mfaToken, code: String(300000 + i) });
    }
    await awayFromStepEdge();
    expect((await stack.api.post('/auth/login/mfa', { mfaToken: await mfaTokenFor(stack, account), code: totpCode(secret, 1) })).status).toBe(429);

    const password = await reset(account);
    const login = await stack.api.post('/auth/login', { email: account.email, password });
    expect(login.body.code).toBe('MFA_REQUIRED');
    await awayFromStepEdge();
    expect((await stack.api.post('/auth/login/mfa', { mfaToken: login.body.mfaToken, code: totpCode(secret, 1) })).status).toBe(200);
  });

  describe("an identity provider's pending exchange code", () => {
    it('still exchanges when nothing happened meanwhile (the check below is not blind)', async () => {
      const account = await createAccount(stack, { label: 'mfa-exchange-control' });
      const exchanged = await stack.api.post('/auth/oidc/exchange', { code: await exchangeCodeFor(account) });
      expect(exchanged.status).toBe(200);
      expect(exchanged.body.user.id).toBe(account.userId);
    });

    it('dies with a password reset', async () => {
      const account = await createAccount(stack, { label: 'mfa-exchange-reset' });
      const code = await exchangeCodeFor(account);
      await reset(account);
      expectProblem(await stack.api.post('/auth/oidc/exchange', { code }), 400, 'INVALID_TOKEN');
    });

    it('dies with a password change', async () => {
      const account = await createAccount(stack, { label: 'mfa-exchange-change' });
      const session = await signIn(stack, account.email, account.password);
      const code = await exchangeCodeFor(account);
      const changed = await stack.api.post('/auth/password/change', { currentPassword: account.password, newPassword: strongPassword() }, session.accessToken);
      expect(changed.status).toBe(204);
      expectProblem(await stack.api.post('/auth/oidc/exchange', { code }), 400, 'INVALID_TOKEN');
    });

    it('dies with MFA turned on', async () => {
      const account = await createAccount(stack, { label: 'mfa-exchange-enable' });
      const code = await exchangeCodeFor(account);
      await enableMfa(stack, account);
      expectProblem(await stack.api.post('/auth/oidc/exchange', { code }), 400, 'INVALID_TOKEN');
    });
  });
});

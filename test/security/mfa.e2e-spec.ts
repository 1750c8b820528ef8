import { enableMfa, mfaTokenFor } from '../support/mfa';
import { createAccount, nextMail, requestResetToken, signIn } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { awayFromStepEdge, totpCode } from '../support/totp';
import { strongPassword, uniqueEmail } from '../support/unique';

/**
 * The second factor (SPEC §11) under attack: codes checked against Debian's oathtool as well as
 * otpauth, replays, drift, guessing against the mfaToken and the account, token confusion,
 * recovery-code reuse, and what a password reset leaves in place. Limits on, as in production.
 */
describe('security: multi-factor authentication', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_AUTH_PER_IP: '100000/15m' } });
  });
  afterAll(() => stack?.close());

  const loginMfa = (body: Record<string, unknown>) => stack.api.post('/auth/login/mfa', body);
  const activity = async (userId: string, type: string) =>
    (await stack.sql<{ n: number }>('select count(*)::int as n from account_activity where user_id = ? and type = ?', [userId, type]))[0].n;

  describe('enrolment', () => {
    it('sets up with the password, shows the secret as base32, URL and SVG QR code, and enables with a code oathtool computes', async () => {
      const account = await createAccount(stack, { label: 'mfa-enrol' });
      const session = await signIn(stack, account.email, account.password);

      const wrongPassword = await stack.api.post('/auth/mfa/totp/setup', { currentPassword: strongPassword() }, session.accessToken);
      expect(wrongPassword).toMatchObject({ status: 400, body: { code: 'INVALID_CREDENTIALS' } });
      expect((await stack.api.post('/auth/mfa/totp/setup', { currentPassword: account.password })).status).toBe(401);
      expect((await stack.api.post('/auth/mfa/totp/enable', { code: '123456' }, session.accessToken)).body.code).toBe('MFA_SETUP_REQUIRED');

      const first = await stack.api.post('/auth/mfa/totp/setup', { currentPassword: account.password }, session.accessToken);
      expect(first.status).toBe(200);
      expect(first.headers.get('cache-control')).toBe('no-store');
      const { secret, otpauthUrl, qrSvg } = first.body;
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      const url = new URL(otpauthUrl);
      expect(url.protocol).toBe('otpauth:');
      expect(url.host).toBe('totp');
      expect(Object.fromEntries(url.searchParams)).toMatchObject({ secret, algorithm: 'SHA1', digits: '6', period: '30', issuer: 'Accounts' });
      expect(decodeURIComponent(url.pathname)).toContain(account.email);
      expect(qrSvg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(qrSvg).not.toMatch(/<script|style=|<style|on[a-z]+=|href/i);

      // A second setup replaces the pending secret: codes of the first no longer enable.
      const second = await stack.api.post('/auth/mfa/totp/setup', { currentPassword: account.password }, session.accessToken);
      expect(second.body.secret).not.toBe(secret);
      expect((await stack.api.post('/auth/mfa/totp/enable', { code: totpCode(secret) }, session.accessToken)).body.code).toBe('INVALID_MFA_CODE');
      expect((await stack.api.post('/auth/mfa/totp/enable', { code: 'not a code' }, session.accessToken)).body.code).toBe('INVALID_MFA_CODE');

      const enabledMail = nextMail(stack.sink, account.email, /two-step sign-in is on/i);
      const enabled = await stack.api.post('/auth/mfa/totp/enable', { code: totpCode(second.body.secret) }, session.accessToken);
      expect(enabled.status).toBe(200);
      expect(enabled.headers.get('cache-control')).toBe('no-store');
      const codes: string[] = enabled.body.recoveryCodes;
      expect(codes).toHaveLength(10);
      expect(new Set(codes).size).toBe(10);
      for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);

      const mail = await enabledMail;
      expect(mail.text).not.toContain(second.body.secret);
      for (const code of codes) expect(mail.text + mail.html).not.toContain(code);
      expect((await stack.api.get('/users/me', session.accessToken)).body.user).toMatchObject({ mfaEnabled: true });
      expect(await activity(account.userId, 'mfa.enabled')).toBe(1);

      // At rest: the secret encrypted, the recovery codes as digests only.
      const [totp] = await stack.sql<{ secret_ciphertext: string }>('select secret_ciphertext from mfa_totp where user_id = ?', [account.userId]);
      expect(totp.secret_ciphertext).not.toContain(second.body.secret);
      expect(Buffer.from(totp.secret_ciphertext.split('.')[1], 'base64url').toString('latin1')).not.toContain(second.body.secret);
      const digests = await stack.sql<{ code_digest: string }>('select code_digest from mfa_recovery_codes where user_id = ?', [account.userId]);
      expect(digests).toHaveLength(10);
      for (const code of codes) expect(JSON.stringify(digests)).not.toContain(code.replace(/-/g, ''));

      expect((await stack.api.post('/auth/mfa/totp/setup', { currentPassword: account.password }, session.accessToken))).toMatchObject({ status: 409, body: { code: 'MFA_ALREADY_ENABLED' } });
      expect((await stack.api.post('/auth/mfa/totp/enable', { code: totpCode(second.body.secret, 1) }, session.accessToken)).body.code).toBe('MFA_ALREADY_ENABLED');
    });
  });

  describe('sign-in', () => {
    it('answers the right password with 401 MFA_REQUIRED and an mfaToken, and a wrong one exactly as for an unknown address', async () => {
      const account = await createAccount(stack, { label: 'mfa-step' });
      const { secret } = await enableMfa(stack, account);
      const login = await stack.api.post('/auth/login', { email: account.email, password: account.password });
      expect(login.status).toBe(401);
      expect(login.headers.get('content-type')).toContain('application/problem+json');
      expect(login.headers.get('cache-control')).toBe('no-store');
      expect(login.body).toEqual({ type: '/problems/mfa-required', title: 'MFA required', status: 401, code: 'MFA_REQUIRED', detail: expect.any(String), mfaToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
      expect(login.body).not.toHaveProperty('accessToken');

      const wrong = await stack.api.post('/auth/login', { email: account.email, password: strongPassword() });
      const unknown = await stack.api.post('/auth/login', { email: uniqueEmail('mfa-nobody'), password: strongPassword() });
      expect([wrong.status, wrong.body]).toEqual([unknown.status, unknown.body]);

      const signedIn = await loginMfa({ mfaToken: login.body.mfaToken, code: totpCode(secret, 1) });
      expect(signedIn.status).toBe(200);
      expect(signedIn.headers.get('cache-control')).toBe('no-store');
      expect(signedIn.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { email: account.email, mfaEnabled: true } });
      expect((await stack.api.get('/users/me', signedIn.body.accessToken)).status).toBe(200);
      expect((await stack.api.post('/auth/refresh', { refreshToken: signedIn.body.refreshToken })).status).toBe(200);
    });

    it('accepts codes one step away (oathtool and otpauth agree), refuses two steps away, and never the same step twice', async () => {
      await awayFromStepEdge(8_000);
      const account = await createAccount(stack, { label: 'mfa-drift' });
      // Enabled with the code of the previous step: one step back is accepted.
      const { secret } = await enableMfa(stack, account, -1);
      const token = await mfaTokenFor(stack, account);
      expect((await loginMfa({ mfaToken: token, code: totpCode(secret, -2) })).body.code).toBe('INVALID_MFA_CODE');
      expect((await loginMfa({ mfaToken: token, code: totpCode(secret, 2) })).body.code).toBe('INVALID_MFA_CODE');
      // The enabling code itself, replayed.
      expect((await loginMfa({ mfaToken: token, code: totpCode(secret, -1) })).body.code).toBe('INVALID_MFA_CODE');
      expect((await loginMfa({ mfaToken: token, code: totpCode(secret, 0) })).status).toBe(200);

      const again = await mfaTokenFor(stack, account);
      // Replay of the code that just signed in, then an older step: both refused.
      expect((await loginMfa({ mfaToken: again, code: totpCode(secret, 0) })).body.code).toBe('INVALID_MFA_CODE');
      expect((await loginMfa({ mfaToken: again, code: totpCode(secret, -1) })).body.code).toBe('INVALID_MFA_CODE');
      expect((await loginMfa({ mfaToken: again, code: totpCode(secret, 1) })).status).toBe(200);
    });

    it('accepts one fresh code once when it is sent in parallel on several sign-ins', async () => {
      await awayFromStepEdge(8_000);
      const account = await createAccount(stack, { label: 'mfa-race' });
      const { secret } = await enableMfa(stack, account);
      const tokens = await Promise.all(Array.from({ length: 5 }, () => mfaTokenFor(stack, account)));
      const code = totpCode(secret, 1);
      const answers = await Promise.all(tokens.map((mfaToken) => loginMfa({ mfaToken, code })));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 400, 400, 400, 400]);
    });

    it('lets an mfaToken take 5 codes at most, also in parallel, then refuses it even with the right code', async () => {
      const account = await createAccount(stack, { label: 'mfa-token-guess' });
      const { secret } = await enableMfa(stack, account);
      const token = await mfaTokenFor(stack, account);
      const guesses = await Promise.all(Array.from({ length: 8 }, (_, i) => loginMfa({ mfaToken: token, code: String(100000 + i) })));
      const codes = guesses.map((g) => g.body.code).sort();
      expect(codes.filter((c) => c === 'INVALID_MFA_CODE')).toHaveLength(5);
      expect(codes.filter((c) => c === 'INVALID_MFA_TOKEN')).toHaveLength(3);
      expect(await loginMfa({ mfaToken: token, code: totpCode(secret, 1) })).toMatchObject({ status: 401, body: { code: 'INVALID_MFA_TOKEN' } });
      expect(await activity(account.userId, 'signin.mfa_failed')).toBe(5);
    });

    it('counts wrong codes per account across sign-ins (RATE_LIMIT_MFA_PER_ACCOUNT, 10 per 15 minutes), atomically', async () => {
      const account = await createAccount(stack, { label: 'mfa-account-guess' });
      const { secret, session } = await enableMfa(stack, account);
      const tokens = await Promise.all(Array.from({ length: 3 }, () => mfaTokenFor(stack, account)));
      // 15 wrong codes at once over three sign-ins: the account's 10 are all that get checked.
      const guesses = await Promise.all(tokens.flatMap((mfaToken) => Array.from({ length: 5 }, (_, i) => loginMfa({ mfaToken, code: String(200000 + i) }))));
      const wrong = guesses.filter((g) => g.body.code === 'INVALID_MFA_CODE');
      const throttled = guesses.filter((g) => g.status === 429);
      expect(wrong).toHaveLength(10);
      expect(throttled).toHaveLength(5);
      expect(Number(throttled[0].headers.get('retry-after'))).toBeGreaterThan(0);
      // Even the right code waits now, on a fresh sign-in.
      const fresh = await mfaTokenFor(stack, account);
      expect((await loginMfa({ mfaToken: fresh, code: totpCode(secret, 1) })).status).toBe(429);
      // The settings count against the same limit.
      const renew = await stack.api.post('/auth/mfa/recovery-codes', { currentPassword: account.password, code: totpCode(secret, 1) }, session.accessToken);
      expect(renew.status).toBe(429);
    });

    it('refuses an mfaToken used twice or older than 5 minutes', async () => {
      const account = await createAccount(stack, { label: 'mfa-token-life' });
      const { secret, recoveryCodes } = await enableMfa(stack, account);
      const token = await mfaTokenFor(stack, account);
      expect((await loginMfa({ mfaToken: token, code: totpCode(secret, 1) })).status).toBe(200);
      expect(await loginMfa({ mfaToken: token, recoveryCode: recoveryCodes[0] })).toMatchObject({ status: 401, body: { code: 'INVALID_MFA_TOKEN' } });

      const late = await mfaTokenFor(stack, account);
      const [row] = await stack.sql<{ minutes: number }>(
        `select round(extract(epoch from expires_at - created_at) / 60)::int as minutes from mfa_challenges where user_id = ? and used_at is null`,
        [account.userId],
      );
      expect(row.minutes).toBe(5);
      // Five minutes pass (the challenge's expiry moved to the past instead of waiting).
      await stack.sql(`update mfa_challenges set expires_at = now() - interval '1 second' where user_id = ? and used_at is null`, [account.userId]);
      expect(await loginMfa({ mfaToken: late, recoveryCode: recoveryCodes[0] })).toMatchObject({ status: 401, body: { code: 'INVALID_MFA_TOKEN' } });
      expect(await loginMfa({ mfaToken: 'x'.repeat(43), code: '123456' })).toMatchObject({ status: 401, body: { code: 'INVALID_MFA_TOKEN' } });
    });

    it('keeps mfaTokens, access tokens and refresh tokens apart', async () => {
      const account = await createAccount(stack, { label: 'mfa-confusion' });
      const { secret, session } = await enableMfa(stack, account);
      const token = await mfaTokenFor(stack, account);
      expect(await stack.api.get('/users/me', token)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
      expect(await stack.api.post('/auth/refresh', { refreshToken: token })).toMatchObject({ status: 401, body: { code: 'INVALID_REFRESH_TOKEN' } });
      expect(await loginMfa({ mfaToken: session.refreshToken, code: '123456' })).toMatchObject({ status: 401, body: { code: 'INVALID_MFA_TOKEN' } });
      expect(await loginMfa({ mfaToken: session.accessToken, code: '123456' })).toMatchObject({ status: 401, body: { code: 'INVALID_MFA_TOKEN' } });
      // The refresh token presented as an mfaToken was not spent by it, and the mfaToken survives the mix-up.
      expect((await stack.api.post('/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(200);
      expect((await loginMfa({ mfaToken: token, code: totpCode(secret, 1) })).status).toBe(200);
    });

    it('refuses malformed second steps with a clear 400, never a 500', async () => {
      const account = await createAccount(stack, { label: 'mfa-input' });
      await enableMfa(stack, account);
      const token = await mfaTokenFor(stack, account);
      for (const body of [
        { mfaToken: token },
        { mfaToken: token, code: '123456', recoveryCode: 'abcd-efgh-jkmn' },
        { mfaToken: token, code: 123456 },
        { mfaToken: token, code: 'x'.repeat(100) },
        { mfaToken: ['a'], code: '123456' },
        { mfaToken: token, code: '123456', admin: true },
      ]) {
        const answer = await loginMfa(body);
        expect({ body, status: answer.status, code: answer.body.code }).toEqual({ body, status: 400, code: 'VALIDATION_FAILED' });
      }
      expect((await loginMfa({ mfaToken: token, code: '12\r\n3456' })).body.code).toBe('INVALID_MFA_CODE');
    });

    it('answers hostile values in every field of every MFA endpoint and form below 500, as problem documents', async () => {
      const account = await createAccount(stack, { label: 'mfa-fuzz' });
      const { session } = await enableMfa(stack, account);
      const hostile: unknown[] = [null, true, 12345678901234567890, -0, [], ['123456'], {}, { $ne: null }, '', ' ', '\u0000', '\r\n', 'é'.repeat(2_000), 'x'.repeat(15_000), '\ud800', '%00', '1e999'];
      const endpoints: Array<[string, string, Record<string, unknown>]> = [
        ['POST', '/auth/login/mfa', { mfaToken: 'A'.repeat(43), code: '123456' }],
        ['POST', '/auth/login/mfa', { mfaToken: 'A'.repeat(43), recoveryCode: 'abcd-efgh-jkmn' }],
        ['POST', '/auth/mfa/totp/setup', { currentPassword: account.password }],
        ['POST', '/auth/mfa/totp/enable', { code: '123456' }],
        ['DELETE', '/auth/mfa/totp', { currentPassword: account.password, code: '123456' }],
        ['POST', '/auth/mfa/recovery-codes', { currentPassword: account.password, code: '123456' }],
      ];
      for (const [method, path, valid] of endpoints) {
        for (const field of Object.keys(valid)) {
          for (const value of hostile) {
            const answer = await stack.api.request(method, `/api/v1${path}`, { body: { ...valid, [field]: value }, token: session.accessToken });
            const context = { path, field, value: JSON.stringify(value)?.slice(0, 20), status: answer.status };
            expect({ ...context, safe: answer.status < 500 && (answer.status < 400 || answer.headers.get('content-type')?.startsWith('application/problem+json')) }).toEqual({ ...context, safe: true });
          }
        }
      }
      const forms: Array<Record<string, string>> = [{ mfaToken: 'x'.repeat(20_000), code: '123456' }, { mfaToken: '', recoveryCode: '\u0000' }, { mfaToken: 'A'.repeat(43), code: 'é'.repeat(3_000) }];
      for (const fields of forms) {
        const answer = await stack.api.form('/login/mfa', fields);
        expect({ fields: Object.keys(fields), status: answer.status < 500 }).toEqual({ fields: Object.keys(fields), status: true });
      }
    }, 120_000);
  });

  describe('recovery codes', () => {
    it('sign in once each, however written, with a notice that says how many are left', async () => {
      const account = await createAccount(stack, { label: 'mfa-recovery' });
      const { recoveryCodes } = await enableMfa(stack, account);
      const notice = nextMail(stack.sink, account.email, /recovery code was used/i);
      const shouted = recoveryCodes[0].toUpperCase().replace(/-/g, ' ');
      expect((await loginMfa({ mfaToken: await mfaTokenFor(stack, account), recoveryCode: shouted })).status).toBe(200);
      const mail = await notice;
      expect(mail.text).toContain('You have 9 unused recovery codes left');
      expect(mail.text + mail.html).not.toContain(recoveryCodes[0]);
      expect(await activity(account.userId, 'mfa.recovery_code_used')).toBe(1);
      expect((await loginMfa({ mfaToken: await mfaTokenFor(stack, account), recoveryCode: recoveryCodes[0] })).body.code).toBe('INVALID_MFA_CODE');
    });

    it('spend one code once when it is sent in parallel', async () => {
      const account = await createAccount(stack, { label: 'mfa-recovery-race' });
      const { recoveryCodes } = await enableMfa(stack, account);
      const tokens = await Promise.all(Array.from({ length: 5 }, () => mfaTokenFor(stack, account)));
      const answers = await Promise.all(tokens.map((mfaToken) => loginMfa({ mfaToken, recoveryCode: recoveryCodes[1] })));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 400, 400, 400, 400]);
    });

    it('are replaced by a new set with the password and a code; the old set stops working', async () => {
      const account = await createAccount(stack, { label: 'mfa-regenerate' });
      const { secret, recoveryCodes, session } = await enableMfa(stack, account);
      expect((await stack.api.post('/auth/mfa/recovery-codes', { currentPassword: strongPassword(), code: recoveryCodes[0] }, session.accessToken)).body.code).toBe('INVALID_CREDENTIALS');
      expect((await stack.api.post('/auth/mfa/recovery-codes', { currentPassword: account.password, code: '000000' }, session.accessToken)).body.code).toBe('INVALID_MFA_CODE');
      const renewed = await stack.api.post('/auth/mfa/recovery-codes', { currentPassword: account.password, code: totpCode(secret, 1) }, session.accessToken);
      expect(renewed.status).toBe(200);
      expect(renewed.body.recoveryCodes).toHaveLength(10);
      expect((await loginMfa({ mfaToken: await mfaTokenFor(stack, account), recoveryCode: recoveryCodes[2] })).body.code).toBe('INVALID_MFA_CODE');
      expect((await loginMfa({ mfaToken: await mfaTokenFor(stack, account), recoveryCode: renewed.body.recoveryCodes[0] })).status).toBe(200);
    });
  });

  describe('disabling', () => {
    it('needs the password and a code; then sign-in asks for the password only', async () => {
      const account = await createAccount(stack, { label: 'mfa-disable' });
      const { secret, session } = await enableMfa(stack, account);
      const off = (body: Record<string, unknown>) => stack.api.request('DELETE', '/api/v1/auth/mfa/totp', { body, token: session.accessToken });
      expect(await off({ currentPassword: account.password })).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
      expect(await off({ currentPassword: account.password, code: '' })).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
      expect(await off({ currentPassword: account.password, code: '000000' })).toMatchObject({ status: 400, body: { code: 'INVALID_MFA_CODE' } });
      expect(await off({ currentPassword: strongPassword(), code: totpCode(secret, 1) })).toMatchObject({ status: 400, body: { code: 'INVALID_CREDENTIALS' } });
      expect((await stack.api.request('DELETE', '/api/v1/auth/mfa/totp', { body: { currentPassword: account.password, code: totpCode(secret, 1) } })).status).toBe(401);
      expect((await stack.api.post('/auth/login', { email: account.email, password: account.password })).body.code).toBe('MFA_REQUIRED');

      const disabledMail = nextMail(stack.sink, account.email, /two-step sign-in is off/i);
      expect((await off({ currentPassword: account.password, code: totpCode(secret, 1) })).status).toBe(204);
      await disabledMail;
      expect(await activity(account.userId, 'mfa.disabled')).toBe(1);
      const login = await stack.api.post('/auth/login', { email: account.email, password: account.password });
      expect(login.status).toBe(200);
      expect(login.body.user.mfaEnabled).toBe(false);
      for (const table of ['mfa_totp', 'mfa_recovery_codes', 'mfa_challenges']) {
        expect({ table, rows: (await stack.sql(`select 1 from ${table} where user_id = ?`, [account.userId])).length }).toEqual({ table, rows: 0 });
      }
      expect(await off({ currentPassword: account.password, code: totpCode(secret, 1) })).toMatchObject({ status: 409, body: { code: 'MFA_NOT_ENABLED' } });
    });
  });

  describe('password reset', () => {
    it('leaves MFA on and ends the sign-ins waiting for a code', async () => {
      const account = await createAccount(stack, { label: 'mfa-reset' });
      const { secret, recoveryCodes } = await enableMfa(stack, account);
      const waiting = await mfaTokenFor(stack, account);
      const token = await requestResetToken(stack, account.email);
      const password = strongPassword();
      expect((await stack.api.post('/auth/password/reset', { token, password })).status).toBe(204);
      expect(await loginMfa({ mfaToken: waiting, code: totpCode(secret, 1) })).toMatchObject({ status: 401, body: { code: 'INVALID_MFA_TOKEN' } });
      const login = await stack.api.post('/auth/login', { email: account.email, password });
      expect(login.body.code).toBe('MFA_REQUIRED');
      expect((await loginMfa({ mfaToken: login.body.mfaToken, recoveryCode: recoveryCodes[0] })).status).toBe(200);
    });
  });
});

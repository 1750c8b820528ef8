import { captureOutput } from '../support/captured-output';
import { createAccount, signIn } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { totpCode } from '../support/totp';
import { strongPassword } from '../support/unique';

/**
 * Where a TOTP secret, a recovery code or an mfaToken must never show up: the logs (at the most
 * verbose level, through every MFA flow and its failures), any error body, the user JSON, the
 * data export (nor the secret's ciphertext or a code's digest), the outbox (mail events are
 * notices) and the account activity.
 */
describe('security: MFA secrets stay secret', () => {
  let stack: Stack;
  let output: ReturnType<typeof captureOutput>;

  beforeAll(async () => {
    output = captureOutput();
    stack = await startStack({ env: { LOG_LEVEL: 'trace' } });
  });
  afterAll(async () => {
    await stack?.close();
    output.restore();
  });

  it('never writes the secret, its URL, a recovery code or an mfaToken to a log, an error body, the user JSON, the outbox or the activity', async () => {
    const account = await createAccount(stack, { label: 'mfa-logs' });
    const session = await signIn(stack, account.email, account.password);
    const secrets: string[] = [];
    const bodies: unknown[] = [];
    const call = async (method: string, path: string, body: unknown, token?: string) => {
      const response = await stack.api.request(method, `/api/v1${path}`, { body, token });
      bodies.push({ status: response.status, body: response.body });
      return response;
    };

    expect((await call('POST', '/auth/mfa/totp/setup', { currentPassword: strongPassword() }, session.accessToken)).status).toBe(400);
    const setup = await call('POST', '/auth/mfa/totp/setup', { currentPassword: account.password }, session.accessToken);
    const { secret } = setup.body;
    secrets.push(secret, setup.body.otpauthUrl, encodeURIComponent(setup.body.otpauthUrl));
    expect((await call('POST', '/auth/mfa/totp/enable', { code: '000000' }, session.accessToken)).status).toBe(400);
    const enabled = await call('POST', '/auth/mfa/totp/enable', { code: totpCode(secret) }, session.accessToken);
    const codes: string[] = enabled.body.recoveryCodes;
    secrets.push(...codes);

    const challenged = await call('POST', '/auth/login', { email: account.email, password: account.password });
    const mfaToken: string = challenged.body.mfaToken;
    expect((await call('POST', '/auth/login/mfa', { mfaToken, code: '000000' })).status).toBe(400);
    expect((await call('POST', '/auth/login/mfa', { mfaToken, recoveryCode: 'abcd-efgh-jkmn' })).status).toBe(400);
    const signedIn = await call('POST', '/auth/login/mfa', { mfaToken, code: totpCode(secret, 1) });
    expect(signedIn.status).toBe(200);
    expect((await call('POST', '/auth/login/mfa', { mfaToken, code: totpCode(secret, 1) })).status).toBe(401);
    const second = await call('POST', '/auth/login', { email: account.email, password: account.password });
    secrets.push(mfaToken, second.body.mfaToken);
    expect((await call('POST', '/auth/login/mfa', { mfaToken: second.body.mfaToken, recoveryCode: codes[0] })).status).toBe(200);
    expect((await call('POST', '/auth/login/mfa', { mfaToken: second.body.mfaToken, recoveryCode: codes[0] })).status).toBe(401);

    const renewed = await call('POST', '/auth/mfa/recovery-codes', { currentPassword: account.password, code: codes[1] }, signedIn.body.accessToken);
    secrets.push(...renewed.body.recoveryCodes);
    // The export of this MFA account, with an identity linked: the state of each, never a secret.
    await stack.sql("insert into identities (id, user_id, issuer, subject, email, created_at) values (gen_random_uuid(), ?, 'https://idp.example', ?, ?, now())", [
      account.userId,
      `sub-${account.userId}`,
      account.email,
    ]);
    const exported = await stack.api.get('/users/me/export', signedIn.body.accessToken);
    expect(exported.body.mfa).toEqual({ enabled: true, enabledAt: expect.any(String), recoveryCodesRemaining: 10 });
    expect(exported.body.identities).toEqual([expect.objectContaining({ issuer: 'https://idp.example', subject: `sub-${account.userId}` })]);
    const atRest = await stack.sql<{ value: string }>(
      'select secret_ciphertext as value from mfa_totp where user_id = ? union all select code_digest from mfa_recovery_codes where user_id = ?',
      [account.userId, account.userId],
    );
    expect(atRest.length).toBe(11);
    secrets.push(...atRest.map((row) => row.value));
    expect((await call('DELETE', '/auth/mfa/totp', { currentPassword: account.password, code: codes[2] }, signedIn.body.accessToken)).status).toBe(400);
    expect((await call('DELETE', '/auth/mfa/totp', { currentPassword: account.password, code: renewed.body.recoveryCodes[0] }, signedIn.body.accessToken)).status).toBe(204);

    const me = await stack.api.get('/users/me', signedIn.body.accessToken);
    const stored = [
      JSON.stringify(await stack.sql('select payload from outbox where payload->>\'userId\' = ?', [account.userId])),
      JSON.stringify(await stack.sql('select * from account_activity where user_id = ?', [account.userId])),
    ];
    const places = {
      logs: output.text(),
      // MFA_REQUIRED hands out its own mfaToken by design; every other error body holds none.
      errorBodies: JSON.stringify(bodies.filter((b) => (b as { status: number }).status >= 400 && (b as { body: { code?: string } }).body.code !== 'MFA_REQUIRED')),
      userJson: JSON.stringify([me.body, signedIn.body.user]),
      export: JSON.stringify(exported.body),
      stored: stored.join('\n'),
    };
    expect(places.logs).toContain('auth.signin.mfa_failed');
    for (const [place, text] of Object.entries(places)) {
      const leaked = secrets.filter((value) => text.includes(value) || text.includes(value.replace(/-/g, '')));
      expect({ place, leaked }).toEqual({ place, leaked: [] });
    }
  });
});

import { randomBytes } from 'node:crypto';
import { MiniBrowser, startStackWithProvider, type TestOidcProvider, type TestAccount } from './support/oidc-provider';
import { createAccount, expectProblem } from './support/security';
import type { Stack } from './support/stack';
import { awayFromStepEdge, totpCode } from './support/totp';
import { uniqueEmail } from './support/unique';

const APP_REDIRECT = 'https://app.example/callback';

/**
 * How accounts made through an identity provider live with §10 and §11 (SPEC §12): re-authentication
 * without a password (a provider sign-in within 5 minutes), MFA after a provider sign-in, the export's
 * identity and MFA sections, and deletion of an identity-linked MFA account. Against the real test
 * OpenID Provider; "older than 5 minutes" is set in the database, never waited for.
 */
describe('re-authentication and the lifecycle of provider accounts', () => {
  let stack: Stack;
  let provider: TestOidcProvider;
  let base: string;

  beforeAll(async () => {
    ({ stack, provider, base } = await startStackWithProvider({ OIDC_REDIRECT_ALLOWLIST: APP_REDIRECT }));
  });
  afterAll(async () => {
    await stack?.close();
    await provider?.stop();
  });

  const someone = (email = uniqueEmail('reauth')): TestAccount => ({ sub: `sub-${randomBytes(6).toString('hex')}`, email, email_verified: true, name: 'Grace Hopper' });

  /** An API consumer's flow up to its one-time code (not exchanged). */
  async function exchangeCode(who: TestAccount): Promise<string> {
    await provider.next({ account: who });
    const { stoppedAt } = await new MiniBrowser().follow(`${base}/api/v1/auth/oidc/corp/authorize?${new URLSearchParams({ redirect_uri: APP_REDIRECT, state: 's' })}`, (url) =>
      url.startsWith(APP_REDIRECT),
    );
    const code = new URL(stoppedAt!).searchParams.get('code');
    if (!code) throw new Error(`no code: ${stoppedAt} ${provider.log}`);
    return code;
  }

  /** A sign-in through the provider, exchanged for tokens. */
  async function providerSession(who: TestAccount) {
    const exchanged = await stack.api.post('/auth/oidc/exchange', { code: await exchangeCode(who) });
    if (exchanged.status !== 200) throw new Error(`exchange: ${exchanged.status} ${JSON.stringify(exchanged.body)}`);
    return exchanged.body as { accessToken: string; user: { id: string } };
  }

  /** Makes every session of the user look signed in 6 minutes ago. */
  const ageSignIns = (userId: string) => stack.sql("update sessions set signed_in_at = now() - interval '6 minutes' where user_id = ?", [userId]);
  const remove = (token: string, body: unknown = {}) => stack.api.request('DELETE', '/api/v1/users/me', { body, token });
  const count = async (table: string, userId: string) => (await stack.sql<{ n: number }>(`select count(*)::int as n from ${table} where user_id = ?`, [userId]))[0].n;

  it('an account without a password deletes itself with {} right after a provider sign-in; an older sign-in gets 401 REAUTHENTICATION_REQUIRED', async () => {
    const who = someone();
    const stale = await providerSession(who);
    expect((await stack.sql<{ password_hash: string | null }>('select password_hash from users where id = ?', [stale.user.id]))[0].password_hash).toBeNull();
    await ageSignIns(stale.user.id);
    expectProblem(await remove(stale.accessToken), 401, 'REAUTHENTICATION_REQUIRED');
    // A password cannot stand in for the provider: the account has none.
    expectProblem(await remove(stale.accessToken, { currentPassword: 'any password at all' }), 401, 'REAUTHENTICATION_REQUIRED');
    expect((await stack.api.get('/users/me', stale.accessToken)).status).toBe(200);

    const fresh = await providerSession(who);
    expect(fresh.user.id).toBe(stale.user.id);
    expect((await remove(fresh.accessToken)).status).toBe(204);
    expect(await stack.sql('select id from users where id = ?', [fresh.user.id])).toEqual([]);
  });

  it('email change and MFA setup re-authenticate the same way', async () => {
    const who = someone();
    const session = await providerSession(who);
    const newEmail = uniqueEmail('reauth-moved');
    await ageSignIns(session.user.id);
    expectProblem(await stack.api.post('/users/me/email', { newEmail }, session.accessToken), 401, 'REAUTHENTICATION_REQUIRED');
    expectProblem(await stack.api.post('/auth/mfa/totp/setup', {}, session.accessToken), 401, 'REAUTHENTICATION_REQUIRED');
    expect(await count('mfa_totp', session.user.id)).toBe(0);

    const fresh = await providerSession(who);
    expect(await stack.api.post('/users/me/email', { newEmail }, fresh.accessToken)).toMatchObject({ status: 202, body: { status: 'accepted' } });
    const setup = await stack.api.post('/auth/mfa/totp/setup', {}, fresh.accessToken);
    expect(setup).toMatchObject({ status: 200, body: { secret: expect.any(String) } });
  });

  it('an account with a password must still give it, even right after a provider sign-in', async () => {
    const account = await createAccount(stack, { label: 'reauth-pw' });
    // A confirmed account of the provider's verified address gets the identity linked.
    const viaProvider = await providerSession(someone(account.email));
    expect(viaProvider.user.id).toBe(account.userId);
    expectProblem(await remove(viaProvider.accessToken), 400, 'INVALID_CREDENTIALS');
    expectProblem(await stack.api.post('/users/me/email', { newEmail: uniqueEmail('reauth-pw-moved') }, viaProvider.accessToken), 400, 'INVALID_CREDENTIALS');
    expectProblem(await stack.api.post('/auth/mfa/totp/setup', {}, viaProvider.accessToken), 400, 'INVALID_CREDENTIALS');
    expectProblem(await remove(viaProvider.accessToken, { currentPassword: 'not the password at all' }), 400, 'INVALID_CREDENTIALS');
    expect((await remove(viaProvider.accessToken, { currentPassword: account.password })).status).toBe(204);
  });

  it('MFA applies after a provider sign-in: MFA_REQUIRED, then a code opens a session that counts as a provider sign-in', async () => {
    const who = someone();
    const first = await providerSession(who);
    const setup = await stack.api.post('/auth/mfa/totp/setup', {}, first.accessToken);
    // The enabling code and the next one must fall in neighbouring steps.
    await awayFromStepEdge();
    const enabled = await stack.api.post('/auth/mfa/totp/enable', { code: totpCode(setup.body.secret) }, first.accessToken);
    expect(enabled.status).toBe(200);

    const exchanged = await stack.api.post('/auth/oidc/exchange', { code: await exchangeCode(who) });
    expectProblem(exchanged, 401, 'MFA_REQUIRED');
    expect(exchanged.body.mfaToken).toEqual(expect.any(String));
    const second = await stack.api.post('/auth/login/mfa', { mfaToken: exchanged.body.mfaToken, code: totpCode(setup.body.secret, 1) });
    expect(second).toMatchObject({ status: 200, body: { accessToken: expect.any(String), user: { id: first.user.id, mfaEnabled: true } } });
    const sessions = await stack.sql<{ sign_in_method: string }>('select sign_in_method from sessions where user_id = ? order by created_at', [first.user.id]);
    expect(sessions.map((s) => s.sign_in_method)).toEqual(['provider', 'provider']);

    // So the passwordless MFA account re-authenticates with that session, and not once it is old.
    const renewed = await stack.api.post('/auth/mfa/recovery-codes', { code: enabled.body.recoveryCodes[0] }, second.body.accessToken);
    expect(renewed).toMatchObject({ status: 200, body: { recoveryCodes: expect.any(Array) } });
    await ageSignIns(first.user.id);
    expectProblem(await stack.api.request('DELETE', '/api/v1/auth/mfa/totp', { body: { code: renewed.body.recoveryCodes[0] }, token: second.body.accessToken }), 401, 'REAUTHENTICATION_REQUIRED');
    expectProblem(await stack.api.post('/auth/mfa/recovery-codes', { code: renewed.body.recoveryCodes[0] }, second.body.accessToken), 401, 'REAUTHENTICATION_REQUIRED');
    // Refused before any code was looked at: the recovery code is still unused.
    expect((await stack.sql<{ n: number }>('select count(*)::int as n from mfa_recovery_codes where user_id = ? and used_at is null', [first.user.id]))[0].n).toBe(10);
  });

  it('deleting an identity-linked MFA account removes its identities, MFA rows and exchange codes; the address and identity start afresh', async () => {
    const who = someone();
    const first = await providerSession(who);
    const setup = await stack.api.post('/auth/mfa/totp/setup', {}, first.accessToken);
    expect((await stack.api.post('/auth/mfa/totp/enable', { code: totpCode(setup.body.secret) }, first.accessToken)).status).toBe(200);

    const exported = await stack.api.get('/users/me/export', first.accessToken);
    expect(exported.status).toBe(200);
    expect(exported.body.identities).toEqual([
      { id: expect.any(String), issuer: provider.issuer, subject: who.sub, provider: 'Corp SSO', email: who.email, createdAt: expect.any(String) },
    ]);
    expect(exported.body.mfa).toEqual({ enabled: true, enabledAt: expect.any(String), recoveryCodesRemaining: 10 });
    expect(JSON.stringify(exported.body)).not.toContain(setup.body.secret);

    // A sign-in waiting for its code, and a consumer's code never exchanged.
    const pending = await stack.api.post('/auth/oidc/exchange', { code: await exchangeCode(who) });
    expectProblem(pending, 401, 'MFA_REQUIRED');
    await exchangeCode(who);
    const userId = first.user.id;
    for (const table of ['identities', 'mfa_totp', 'mfa_recovery_codes', 'mfa_challenges', 'oidc_exchange_codes']) expect({ table, rows: (await count(table, userId)) > 0 }).toEqual({ table, rows: true });

    expect((await remove(first.accessToken)).status).toBe(204);
    for (const table of ['identities', 'mfa_totp', 'mfa_recovery_codes', 'mfa_challenges', 'oidc_exchange_codes', 'sessions']) expect({ table, rows: await count(table, userId) }).toEqual({ table, rows: 0 });
    expectProblem(await stack.api.post('/auth/login/mfa', { mfaToken: pending.body.mfaToken, code: totpCode(setup.body.secret, 1) }), 401, 'INVALID_MFA_TOKEN');

    // The same identity signs in to a new account of the same address: no MFA, no password.
    const again = await providerSession(who);
    expect(again.user.id).not.toBe(userId);
    expect(again.user).toMatchObject({ email: who.email, mfaEnabled: false });
    expect(await count('identities', again.user.id)).toBe(1);
  });
});

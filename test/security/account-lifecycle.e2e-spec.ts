import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { MAIL_QUEUE } from '@accounts/mail/contract';
import { ApiClient } from '../support/api-client';
import { enableMfa } from '../support/mfa';
import { createAccount, expectProblem, requestResetToken, signIn, type Account } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';
import { pollUntil, waitUntil } from '../support/polling';

/**
 * SPEC §10 against an attacker: the export and the activity hold no secret, nobody reads or
 * deletes another account, deletion needs the password and is throttled, the new forms need their
 * CSRF token, and odd or huge inputs get a 4xx.
 */
describe('security: account lifecycle', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_LOGIN_PER_ACCOUNT: '3/15m' } });
  });
  afterAll(() => stack?.close());

  async function browserSignedIn(account: Account): Promise<ApiClient> {
    const browser = new ApiClient(stack.api.baseUrl);
    expect((await browser.form('/login', { email: account.email, password: account.password })).status).toBe(303);
    return browser;
  }

  it('keeps passwords, tokens and hashes out of the activity record and the export', async () => {
    const account = await createAccount(stack);
    const guess = 'my-guessed-password-1234';
    expect((await stack.api.post('/auth/login', { email: account.email, password: guess })).status).toBe(401);
    const resetToken = await requestResetToken(stack, account.email);
    const password = strongPassword();
    expect((await stack.api.post('/auth/password/reset', { token: resetToken, password })).status).toBe(204);
    // MFA on and an identity linked: their sections hold no secret either. Turning MFA on ends the
    // other sessions, so the one that turned it on reads the record.
    const mfa = await enableMfa(stack, { ...account, password });
    const { session } = mfa;
    await stack.sql("insert into identities (id, user_id, issuer, subject, email, created_at) values (gen_random_uuid(), ?, 'https://idp.example', ?, ?, now())", [
      account.userId,
      `sub-${account.userId}`,
      account.email,
    ]);
    const activity = await pollUntil(
      () => stack.api.get('/users/me/activity?limit=100', session.accessToken),
      (page) => page.body.items.some((item: { type: string }) => item.type === 'signin.failed'),
    );
    const exported = await stack.api.get('/users/me/export', session.accessToken);
    const [{ password_hash: hash }] = await stack.sql<{ password_hash: string }>('select password_hash from users where id = ?', [account.userId]);
    const rows = JSON.stringify(await stack.sql('select * from account_activity where user_id = ?', [account.userId]));
    const hashes = await stack.sql<{ token_hash: string }>(
      'select token_hash from refresh_tokens r join sessions s on s.id = r.session_id where s.user_id = ? union all select token_hash from one_time_tokens where user_id = ?',
      [account.userId, account.userId],
    );
    const mfaAtRest = await stack.sql<{ value: string }>(
      'select secret_ciphertext as value from mfa_totp where user_id = ? union all select code_digest from mfa_recovery_codes where user_id = ?',
      [account.userId, account.userId],
    );
    const mfaSecrets = [mfa.secret, ...mfa.recoveryCodes, ...mfaAtRest.map((row) => row.value)];
    for (const text of [JSON.stringify(activity.body), JSON.stringify(exported.body), rows]) {
      for (const secret of [guess, account.password, password, resetToken, session.refreshToken, session.accessToken, hash, ...hashes.map((row) => row.token_hash), ...mfaSecrets]) {
        expect(text).not.toContain(secret);
      }
      expect(text).not.toMatch(/\$argon2/);
    }
    expect(Object.keys(exported.body.sessions[0]).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'ip', 'lastUsedAt', 'revokedAt', 'userAgent']);
    expect(Object.keys(exported.body.emailedLinks[0]).sort()).toEqual(['createdAt', 'expiresAt', 'purpose', 'usedAt']);
    expect(Object.keys(exported.body.identities[0]).sort()).toEqual(['createdAt', 'email', 'id', 'issuer', 'provider', 'subject']);
    expect(exported.body.mfa).toEqual({ enabled: true, enabledAt: expect.any(String), recoveryCodesRemaining: 10 });
  });

  it('exports the same whether an email change asked for a free or a registered address', async () => {
    const prober = await createAccount(stack);
    const registered = await createAccount(stack);
    const free = uniqueEmail('life-free');
    const { accessToken } = await signIn(stack, prober.email, prober.password);
    const change = (newEmail: string) => stack.api.post('/users/me/email', { newEmail, currentPassword: prober.password }, accessToken);
    const exportedLinks = async () => (await stack.api.get('/users/me/export', accessToken)).body.emailedLinks;
    const before = await exportedLinks();
    expect((await change(registered.email)).status).toBe(202);
    const afterRegistered = await exportedLinks();
    expect((await change(free)).status).toBe(202);
    // Only the free address got a link stored: the export must not show it.
    expect(await stack.sql("select 1 from one_time_tokens where user_id = ? and purpose = 'email_change'", [prober.userId])).toHaveLength(1);
    const afterFree = await exportedLinks();
    expect(afterRegistered).toEqual(before);
    expect(afterFree).toEqual(before);
    expect(JSON.stringify(afterFree)).not.toContain(free);
  });

  it("never shows or changes another account's data", async () => {
    const mine = await createAccount(stack);
    const theirs = await createAccount(stack, { name: 'Theirs' });
    const their = await signIn(stack, theirs.email, theirs.password);
    const { accessToken } = await signIn(stack, mine.email, mine.password);
    const text = JSON.stringify([(await stack.api.get('/users/me/export', accessToken)).body, (await stack.api.get('/users/me/activity?limit=100', accessToken)).body]);
    expect(text).not.toContain(theirs.userId);
    expect(text).not.toContain(theirs.email);
    // Their cursor pages only my record; my deletion with their password is refused.
    const theirNewest = (await stack.api.get('/users/me/activity', their.accessToken)).body.items[0].id;
    const below = await stack.api.get(`/users/me/activity?before=${BigInt(theirNewest) + 1n}`, accessToken);
    expect(below.body.items.every((item: { id: string }) => item.id !== theirNewest)).toBe(true);
    expectProblem(await stack.api.request('DELETE', '/api/v1/users/me', { body: { currentPassword: theirs.password }, token: accessToken }), 400, 'INVALID_CREDENTIALS');
    expect(await stack.sql('select 1 from users where id in (?, ?)', [mine.userId, theirs.userId])).toHaveLength(2);
  });

  it('throttles wrong passwords of a deletion with the current-password limit, even before the right one', async () => {
    const account = await createAccount(stack);
    const { accessToken } = await signIn(stack, account.email, account.password);
    const attempt = (currentPassword: string) => stack.api.request('DELETE', '/api/v1/users/me', { body: { currentPassword }, token: accessToken });
    for (let i = 0; i < 3; i++) expectProblem(await attempt(`wrong password ${i} here`), 400, 'INVALID_CREDENTIALS');
    const throttled = await attempt(account.password);
    expectProblem(throttled, 429, 'TOO_MANY_REQUESTS');
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await stack.sql('select 1 from users where id = ?', [account.userId])).toHaveLength(1);
    // The same count as a password change: the guesses are used up there too.
    expectProblem(await stack.api.post('/auth/password/change', { currentPassword: account.password, newPassword: strongPassword() }, accessToken), 429, 'TOO_MANY_REQUESTS');
  });

  it('refuses the name and delete forms without the CSRF token of this session', async () => {
    const account = await createAccount(stack, { name: 'Ada' });
    const browser = await browserSignedIn(account);
    const anonymous = await browser.csrfToken('/forgot-password');
    for (const [path, fields] of [
      ['/account/name', { name: 'Mallory' }],
      ['/account/delete', { currentPassword: account.password, confirmEmail: account.email }],
    ] as const) {
      for (const csrf of [undefined, '', anonymous, 'forged-token']) {
        const forged = await browser.form(path, csrf === undefined ? { ...fields, _csrf: '' } : { ...fields, _csrf: csrf });
        expect({ path, csrf, status: forged.status }).toEqual({ path, csrf, status: 403 });
      }
    }
    expect(await stack.sql('select name from users where id = ?', [account.userId])).toEqual([{ name: 'Ada' }]);
    // The data export is a GET that changes nothing, a download no cache keeps; signed out, it sends the browser to sign in.
    const download = await browser.request('GET', '/account/export');
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="account-export-\d{4}-\d\d-\d\d\.json"$/);
    expect(download.headers.get('cache-control')).toBe('no-store');
    expect(download.body.profile.id).toBe(account.userId);
    const stranger = new ApiClient(stack.api.baseUrl);
    const signedOut = await stranger.request('GET', '/account/export');
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get('location')).toBe('/login');
  });

  it('answers odd and huge inputs with a 4xx, never a 500', async () => {
    const account = await createAccount(stack);
    const { accessToken } = await signIn(stack, account.email, account.password);
    const patch = (body: unknown) => stack.api.request('PATCH', '/api/v1/users/me', { body, token: accessToken });
    const remove = (body: unknown) => stack.api.request('DELETE', '/api/v1/users/me', { body, token: accessToken });
    expectProblem(await patch({ name: 'x'.repeat(10_000) }), 400, 'VALIDATION_FAILED');
    expectProblem(await patch({ name: 'y'.repeat(20_000) }), 413, 'PAYLOAD_TOO_LARGE');
    expectProblem(await patch({ name: { toString: 'x' } }), 400, 'VALIDATION_FAILED');
    expectProblem(await patch({ name: 'A\u2028da' }), 400, 'VALIDATION_FAILED');
    expectProblem(await patch({ name: 'Ada\ud800' }), 400, 'VALIDATION_FAILED');
    expectProblem(await patch('{"name": "Ada",'), 400, 'MALFORMED_REQUEST');
    expectProblem(await patch('{"__proto__": {"name": "x"}, "name": "Ada"}'), 400, 'FORBIDDEN_KEY');
    expectProblem(await remove({ currentPassword: 'p'.repeat(5_000) }), 400, 'VALIDATION_FAILED');
    expectProblem(await remove({ currentPassword: 12345 }), 400, 'VALIDATION_FAILED');
    expectProblem(await remove({ currentPassword: account.password, extra: true }), 400, 'VALIDATION_FAILED');
    expectProblem(await stack.api.get(`/users/me/activity?before=${'9'.repeat(2_000)}`, accessToken), 400, 'VALIDATION_FAILED');
    expectProblem(await stack.api.get('/users/me/activity?limit[$gt]=1', accessToken), 400, 'VALIDATION_FAILED');
    const page = await browserSignedIn(account);
    const longName = await page.form('/account/name', { name: 'z'.repeat(5_000) });
    expect(longName.status).toBe(400);
    expect(longName.body).toContain('name must be shorter than or equal to 100 characters');
    const crlf = await page.form('/account/name', { name: 'Ada\r\nBcc: eve@example.com' });
    expect(crlf.status).toBe(400);
    expect(await stack.sql('select name from users where id = ?', [account.userId])).toEqual([{ name: null }]);
    const wrongAddress = await page.form('/account/delete', { currentPassword: account.password, confirmEmail: 'someone@example.com' });
    expect(wrongAddress.status).toBe(400);
    expect(wrongAddress.body).toContain('Type your email address');
    expect(await stack.sql('select 1 from users where id = ?', [account.userId])).toHaveLength(1);
  });
});

describe('security: a deleted account in the mail queue', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true, env: { MAIL_ATTEMPTS: '2', MAIL_FAILED_RETENTION: '2s' } });
  });
  afterAll(() => stack?.close());

  it('removes its jobs that fail after the deletion once MAIL_FAILED_RETENTION is over', async () => {
    const account = await createAccount(stack);
    const session = await signIn(stack, account.email, account.password);
    const queue = stack.apiApp.get<Queue>(getQueueToken(MAIL_QUEUE));
    const mine = async () =>
      (await queue.getJobs(['wait', 'delayed', 'active', 'failed', 'prioritized', 'waiting-children'])).filter(
        (job) => (job?.data as { userId?: string } | undefined)?.userId === account.userId,
      );
    // SMTP unreachable: every attempt fails, and the jobs fail for good after the deletion's scrub.
    await stack.startWorker({ SMTP_URL: 'smtp://127.0.0.1:1' });
    expect((await stack.api.request('DELETE', '/api/v1/users/me', { body: { currentPassword: account.password }, token: session.accessToken })).status).toBe(204);
    const seen = new Set<string>();
    await waitUntil(
      async () => {
        const jobs = await mine();
        for (const job of jobs) seen.add(`${job.name}:${await job.getState()}`);
        return seen.has('user.deleted:failed') && jobs.length === 0;
      },
      30_000,
      'the failed user.deleted notice to leave Redis',
    );
  });
});

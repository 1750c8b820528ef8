import { expectDocumentedResponses } from './support/openapi-contract';
import { hashSecretToken } from '@accounts/tokens';
import { linkIn, startStack, to, type Stack } from './support/stack';
import { strongPassword, uniqueEmail } from './support/unique';

describe('password recovery and change', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  async function signUp(label: string, name = 'Sam') {
    const email = uniqueEmail(label);
    const password = strongPassword();
    await stack.api.post('/auth/register', { email, password, name });
    await stack.sink.waitFor(to(email)); // the welcome mail, so later waits see only what follows
    const login = await stack.api.post('/auth/login', { email, password });
    return { email, password, session: login.body as { accessToken: string; refreshToken: string } };
  }

  async function requestReset(email: string) {
    const seen = stack.sink.messages.length;
    const forgot = await stack.api.post('/auth/password/forgot', { email });
    expect(forgot.status).toBe(202);
    const mail = await stack.sink.waitFor((m) => to(email)(m) && /reset/i.test(m.subject) && stack.sink.messages.indexOf(m) >= seen);
    return linkIn(mail).token;
  }

  it('resets through the emailed link, ends old sessions, and reports the change by email', async () => {
    const { email, password, session } = await signUp('reset');
    const token = await requestReset(email);
    const newPassword = strongPassword();

    const reset = await stack.api.post('/auth/password/reset', { token, password: newPassword });
    expect(reset.status).toBe(204);

    expect((await stack.api.post('/auth/login', { email, password })).status).toBe(401);
    expect((await stack.api.post('/auth/login', { email, password: newPassword })).status).toBe(200);
    // Sessions from before the reset die on their very next request.
    const me = await stack.api.get('/users/me', session.accessToken);
    expect(me.status).toBe(401);
    expect((await stack.api.post('/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(401);

    const changed = await stack.sink.waitFor((m) => to(email)(m) && /password.*changed|changed.*password/i.test(m.subject));
    expect(changed.text).not.toContain(newPassword);

    const reuse = await stack.api.post('/auth/password/reset', { token, password: strongPassword() });
    expect(reuse.status).toBe(400);
    expect(reuse.body.code).toBe('INVALID_TOKEN');
  });

  it('answers forgot-password identically for unknown addresses and sends nothing', async () => {
    const { email } = await signUp('forgot');
    const known = await stack.api.post('/auth/password/forgot', { email });
    const unknownEmail = uniqueEmail('ghost');
    const unknown = await stack.api.post('/auth/password/forgot', { email: unknownEmail });
    expect(unknown.status).toBe(known.status);
    expect(unknown.body).toEqual(known.body);
    await stack.sink.waitFor((m) => to(email)(m) && /reset/i.test(m.subject));
    expect(stack.sink.messages.filter(to(unknownEmail))).toHaveLength(0);
  });

  it('refuses an expired reset token', async () => {
    const { email } = await signUp('expired');
    const token = await requestReset(email);
    await stack.sql(`update one_time_tokens set expires_at = now() - interval '1 second' where token_hash = ?`, [hashSecretToken(token)]);
    const reset = await stack.api.post('/auth/password/reset', { token, password: strongPassword() });
    expect(reset.status).toBe(400);
    expect(reset.body.code).toBe('INVALID_TOKEN');
  });

  it('keeps the token usable when the new password is refused', async () => {
    const { email } = await signUp('weak-reset');
    const token = await requestReset(email);
    const weak = await stack.api.post('/auth/password/reset', { token, password: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body.code).toBe('PASSWORD_TOO_WEAK');
    expect((await stack.api.post('/auth/password/reset', { token, password: strongPassword() })).status).toBe(204);
  });

  it("judges a new password against the account's stored name, on reset and on change", async () => {
    const { email, password, session } = await signUp('own-name', 'Jo Quillfeather');
    const ownName = 'Quillfeather 99';
    const change = await stack.api.post('/auth/password/change', { currentPassword: password, newPassword: ownName }, session.accessToken);
    expect({ status: change.status, code: change.body.code }).toEqual({ status: 400, code: 'PASSWORD_TOO_WEAK' });
    expect(change.body.detail).toMatch(/personal/i);
    const token = await requestReset(email);
    const reset = await stack.api.post('/auth/password/reset', { token, password: ownName });
    expect({ status: reset.status, code: reset.body.code }).toEqual({ status: 400, code: 'PASSWORD_TOO_WEAK' });
    // Someone else may pick it.
    const other = await signUp('other-name');
    const allowed = await stack.api.post('/auth/password/change', { currentPassword: other.password, newPassword: ownName }, other.session.accessToken);
    expect(allowed.status).toBe(204);
  });

  it('supersedes an earlier reset link with a newer one', async () => {
    const { email } = await signUp('supersede');
    const first = await requestReset(email);
    const second = await requestReset(email);
    expect((await stack.api.post('/auth/password/reset', { token: first, password: strongPassword() })).status).toBe(400);
    expect((await stack.api.post('/auth/password/reset', { token: second, password: strongPassword() })).status).toBe(204);
  });

  it('lets exactly one of two simultaneous resets with one token succeed', async () => {
    const { email } = await signUp('double');
    const token = await requestReset(email);
    const [a, b] = await Promise.all([
      stack.api.post('/auth/password/reset', { token, password: strongPassword() }),
      stack.api.post('/auth/password/reset', { token, password: strongPassword() }),
    ]);
    expect([a.status, b.status].sort()).toEqual([204, 400]);
  });

  it('resets through the page: GET spends nothing, POST redirects to sign-in with a notice', async () => {
    const { email, password } = await signUp('page-reset');
    const token = await requestReset(email);
    const page = await stack.api.request('GET', `/reset-password?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('name="passwordConfirm"');
    expect(page.headers.get('cache-control')).toBe('no-store');

    const mismatch = await stack.api.form('/reset-password', { token, password: strongPassword(), passwordConfirm: 'different' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toContain('do not match');

    const newPassword = strongPassword();
    const done = await stack.api.form('/reset-password', { token, password: newPassword, passwordConfirm: newPassword });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/login?reset=1');
    const login = await stack.api.request('GET', '/login?reset=1');
    expect(login.body).toContain('Your password was updated');

    expect((await stack.api.post('/auth/login', { email, password })).status).toBe(401);
    expect((await stack.api.post('/auth/login', { email, password: newPassword })).status).toBe(200);
    const replay = await stack.api.form('/reset-password', { token, password: newPassword, passwordConfirm: newPassword });
    expect(replay.body).toContain('This link is invalid or has expired');
  });

  it('confirms an unconfirmed address through a successful reset', async () => {
    const confirmed = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'true' } });
    try {
      const email = uniqueEmail('reset-confirms');
      await confirmed.api.post('/auth/register', { email, password: strongPassword() });
      await confirmed.sink.waitFor(to(email));
      await confirmed.api.post('/auth/password/forgot', { email });
      const mail = await confirmed.sink.waitFor((m) => to(email)(m) && /reset/i.test(m.subject));
      const newPassword = strongPassword();
      await confirmed.api.post('/auth/password/reset', { token: linkIn(mail).token, password: newPassword });
      const login = await confirmed.api.post('/auth/login', { email, password: newPassword });
      expect(login.status).toBe(200);
      expect(login.body.user.emailConfirmed).toBe(true);
    } finally {
      await confirmed.close();
    }
  });

  it('changes the password while signed in, keeping only the current session', async () => {
    const { email, password, session } = await signUp('change');
    const other = (await stack.api.post('/auth/login', { email, password })).body;
    const newPassword = strongPassword();

    const wrong = await stack.api.post('/auth/password/change', { currentPassword: strongPassword(), newPassword }, session.accessToken);
    expect(wrong.status).toBe(400);
    expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
    const weak = await stack.api.post('/auth/password/change', { currentPassword: password, newPassword: 'short' }, session.accessToken);
    expect(weak.body.code).toBe('PASSWORD_TOO_WEAK');
    const anonymous = await stack.api.post('/auth/password/change', { currentPassword: password, newPassword });
    expect(anonymous.status).toBe(401);

    const changed = await stack.api.post('/auth/password/change', { currentPassword: password, newPassword }, session.accessToken);
    expect(changed.status).toBe(204);
    expect((await stack.api.get('/users/me', session.accessToken)).status).toBe(200);
    expect((await stack.api.get('/users/me', other.accessToken)).status).toBe(401);
    expect((await stack.api.post('/auth/login', { email, password })).status).toBe(401);
    expect((await stack.api.post('/auth/login', { email, password: newPassword })).status).toBe(200);
    await stack.sink.waitFor((m) => to(email)(m) && /password.*changed|changed.*password/i.test(m.subject));
  });

  it('spends outstanding reset links when the password is changed', async () => {
    const { email, password, session } = await signUp('change-spends');
    const token = await requestReset(email);
    await stack.api.post('/auth/password/change', { currentPassword: password, newPassword: strongPassword() }, session.accessToken);
    expect((await stack.api.post('/auth/password/reset', { token, password: strongPassword() })).status).toBe(400);
  });
});

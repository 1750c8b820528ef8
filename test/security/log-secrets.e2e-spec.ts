import { captureOutput } from '../support/captured-output';
import { nextMail } from '../support/security';
import { linkIn, startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/**
 * Logs (ASVS 5.0 V16 security logging, OWASP Logging cheat sheet): whatever the apps print at the
 * most verbose level during every flow, no password, no token (confirmation, reset, refresh,
 * access) and no emailed link ever appears in it. Captures stdout and stderr of this process, which
 * runs the API and the mail worker.
 */
describe('security: no secrets in logs', () => {
  let stack: Stack;
  let output: ReturnType<typeof captureOutput>;

  beforeAll(async () => {
    output = captureOutput();
    stack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'true', LOG_LEVEL: 'trace' } });
  });
  afterAll(async () => {
    await stack?.close();
    output.restore();
  });

  it('logs no password, token or emailed link through register, confirm, sign-in, refresh, change, forgot, reset and their failures', async () => {
    const passwords: string[] = [];
    const weakPasswords: string[] = [];
    const tokens: string[] = [];
    const links: string[] = [];
    const fresh = () => {
      const password = strongPassword();
      passwords.push(password);
      return password;
    };
    const remember = (body: { accessToken?: string; refreshToken?: string }) => {
      if (body.accessToken) tokens.push(body.accessToken);
      if (body.refreshToken) tokens.push(body.refreshToken);
      return body as { accessToken: string; refreshToken: string };
    };
    const tokenFrom = async (mail: ReturnType<typeof nextMail>) => {
      const link = linkIn(await mail);
      links.push(link.url.toString());
      tokens.push(link.token);
      return link.token;
    };

    const email = uniqueEmail('logs');
    let password = fresh();

    // Register, a repeated registration, a resend, and the confirmation.
    let mail = nextMail(stack.sink, email, /confirm/i);
    expect((await stack.api.post('/auth/register', { email, password, name: 'Logan' })).status).toBe(202);
    await tokenFrom(mail);
    mail = nextMail(stack.sink, email, /confirm/i);
    expect((await stack.api.post('/auth/register', { email, password: fresh() })).status).toBe(202);
    await tokenFrom(mail);
    mail = nextMail(stack.sink, email, /confirm/i);
    expect((await stack.api.post('/auth/email/resend', { email })).status).toBe(202);
    const confirmation = await tokenFrom(mail);
    expect((await stack.api.post('/auth/login', { email, password })).status).toBe(403);
    // A resent link carries no password: confirming chooses one (a weak one is refused first).
    const weakChoice = 'password1234';
    weakPasswords.push(weakChoice);
    expect((await stack.api.post('/auth/email/confirm', { token: confirmation, password: weakChoice })).status).toBe(400);
    password = fresh();
    expect((await stack.api.post('/auth/email/confirm', { token: confirmation, password })).status).toBe(200);
    expect((await stack.api.post('/auth/email/confirm', { token: confirmation, password })).status).toBe(400);

    // Sign in, fail to sign in, refresh, replay a spent refresh token, log out.
    const first = remember((await stack.api.post('/auth/login', { email, password })).body);
    expect((await stack.api.post('/auth/login', { email, password: fresh() })).status).toBe(401);
    expect((await stack.api.post('/auth/login', { email: uniqueEmail('logs-nobody'), password: fresh() })).status).toBe(401);
    const second = remember((await stack.api.post('/auth/refresh', { refreshToken: first.refreshToken })).body);
    expect((await stack.api.post('/auth/refresh', { refreshToken: first.refreshToken })).status).toBe(401);
    const third = remember((await stack.api.post('/auth/login', { email, password })).body);
    expect((await stack.api.get('/users/me', second.accessToken)).status).toBe(401);
    expect((await stack.api.get('/users/me', third.accessToken)).status).toBe(200);

    // Change the password: once wrong, once weak, once right.
    expect((await stack.api.post('/auth/password/change', { currentPassword: fresh(), newPassword: fresh() }, third.accessToken)).status).toBe(400);
    // Contains the address's local part, which logs may legitimately show (masked or not): checked whole.
    const weak = `${email.split('@')[0]}-and-more`;
    weakPasswords.push(weak);
    expect((await stack.api.post('/auth/password/change', { currentPassword: password, newPassword: weak }, third.accessToken)).status).toBe(400);
    const changed = fresh();
    expect((await stack.api.post('/auth/password/change', { currentPassword: password, newPassword: changed }, third.accessToken)).status).toBe(204);
    password = changed;

    // Forgot and reset: a guessed token, a weak password, then the real reset, and a replay.
    mail = nextMail(stack.sink, email, /reset/i);
    expect((await stack.api.post('/auth/password/forgot', { email })).status).toBe(202);
    const reset = await tokenFrom(mail);
    const guessed = 'G'.repeat(43);
    tokens.push(guessed);
    expect((await stack.api.post('/auth/password/reset', { token: guessed, password: fresh() })).status).toBe(400);
    expect((await stack.api.post('/auth/password/reset', { token: reset, password: 'short' })).status).toBe(400);
    expect((await stack.api.post('/auth/password/reset', { token: reset, password: fresh() })).status).toBe(204);
    expect((await stack.api.post('/auth/password/reset', { token: reset, password: fresh() })).status).toBe(400);
    expect((await stack.api.get('/users/me', third.accessToken)).status).toBe(401);

    // The pages too.
    mail = nextMail(stack.sink, email, /reset/i);
    expect((await stack.api.form('/forgot-password', { email })).status).toBe(200);
    const pageReset = await tokenFrom(mail);
    const pagePassword = fresh();
    expect((await stack.api.request('GET', `/reset-password?token=${pageReset}`)).status).toBe(200);
    const changedMail = nextMail(stack.sink, email, /changed/i);
    expect((await stack.api.form('/reset-password', { token: pageReset, password: pagePassword, passwordConfirm: pagePassword })).status).toBe(303);
    // Page sign-in: the browser credential in the session cookie is a secret too.
    expect((await stack.api.form('/login', { email, password: pagePassword })).status).toBe(303);
    tokens.push(stack.api.cookie('accounts_session')!);
    expect((await stack.api.request('GET', '/account')).status).toBe(200);
    const last = remember((await stack.api.post('/auth/login', { email, password: pagePassword })).body);
    expect((await stack.api.post('/auth/logout', { refreshToken: last.refreshToken })).status).toBe(204);
    expect((await stack.api.post('/auth/logout', { refreshToken: 'L'.repeat(43) })).status).toBe(204);
    // The worker has sent (and logged) everything up to the last mail.
    await changedMail;

    const log = output.text();
    // The run did log something (at trace level, at least the route map and the sent mails).
    expect(log.length).toBeGreaterThan(0);
    expect(log).toMatch(/Sent [\w.-]+/);

    const leaks: string[] = [];
    const check = (label: string, secret: string) => {
      if (secret && log.includes(secret)) leaks.push(`${label}: ${secret.slice(0, 12)}…`);
    };
    for (const p of weakPasswords) check('password', p);
    for (const p of passwords) {
      check('password', p);
      // The random part alone, in case a password is logged in pieces or re-encoded.
      const random = /[0-9a-f]{12}/.exec(p)?.[0];
      if (random) check('password (random part)', random);
    }
    for (const token of tokens) {
      const parts = token.split('.');
      if (parts.length === 3) {
        check('access token', token);
        check('access token signature', parts[2]);
      } else {
        check('token', token);
        // Any 16-character window: a logged prefix or suffix is a leak too.
        for (let i = 0; i + 16 <= token.length; i += 4) check('token fragment', token.slice(i, i + 16));
        check('token URL-encoded', encodeURIComponent(token));
      }
    }
    for (const link of links) check('link', link);
    check('link path', 'reset-password?token=');
    check('link path', 'confirm-email?token=');
    expect(leaks).toEqual([]);
  });
});

import { randomBytes } from 'node:crypto';
import { ApiClient } from '../support/api-client';
import { rawRequest } from '../support/raw-http';
import { createAccount, expectProblem, requestResetToken, signIn, type Account } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { strongPassword } from '../support/unique';

const SESSION = 'accounts_session';

/**
 * The browser session (SPEC §9; ASVS 5.0 V7 session management, V3 web frontend; OWASP Session
 * Management and CSRF cheat sheets): its cookie holds a credential of its own, never a refresh
 * token; the credential rotates while in use, a replaced one works only for a short grace and its
 * reuse after that ends the session; CSRF tokens of signed-in forms are bound to the session.
 */
describe('security: browser session cookie and CSRF', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  /** A new browser, signed in through the sign-in page. */
  async function browserSignedIn(account: Account, on: Stack = stack, cookie = SESSION): Promise<{ browser: ApiClient; credential: string }> {
    const browser = new ApiClient(on.api.baseUrl);
    const login = await browser.form('/login', { email: account.email, password: account.password });
    expect(login.status).toBe(303);
    const credential = browser.cookie(cookie);
    if (!credential) throw new Error('no session cookie');
    return { browser, credential };
  }

  /** GET /account with exactly this session cookie, as another tab or a thief would send it. */
  function accountWith(credential: string) {
    return rawRequest(stack.api.baseUrl, 'GET', '/account', { headers: { cookie: `${SESSION}=${credential}` } });
  }

  function newSessionCookie(setCookie: string | string[] | undefined): string | undefined {
    const lines = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
    const line = lines.find((l) => l.startsWith(`${SESSION}=`));
    return line?.slice(SESSION.length + 1).split(';')[0] || undefined;
  }

  async function sessionIdOf(credential: string): Promise<string> {
    const [row] = await stack.sql<{ session_id: string }>(
      "select session_id from browser_credentials where token_hash = encode(sha256(convert_to(?, 'UTF8')), 'hex')",
      [credential],
    );
    return row.session_id;
  }

  it('is never accepted by the JSON API as a refresh token, and page sign-in leaves no usable refresh token', async () => {
    const account = await createAccount(stack, { label: 'cookie-refresh' });
    const { browser, credential } = await browserSignedIn(account);
    const refresh = await stack.api.post('/auth/refresh', { refreshToken: credential });
    expectProblem(refresh, 401, 'INVALID_REFRESH_TOKEN');
    expect(refresh.body).not.toHaveProperty('accessToken');
    expect((await stack.api.post('/auth/logout', { refreshToken: credential })).status).toBe(204);
    // Neither refresh nor logout touched the browser session, and it has no refresh token at all.
    expect((await browser.request('GET', '/account')).status).toBe(200);
    const sessionId = await sessionIdOf(credential);
    expect(await stack.sql('select 1 from refresh_tokens where session_id = ? and used_at is null', [sessionId])).toHaveLength(0);
    // Nor is the hash of the credential anything the API knows as a refresh token.
    expect(await stack.sql("select 1 from refresh_tokens where token_hash = encode(sha256(convert_to(?, 'UTF8')), 'hex')", [credential])).toHaveLength(0);
  });

  it('is not a refresh token of the session either way: an API refresh token does not sign a browser in', async () => {
    const account = await createAccount(stack, { label: 'refresh-cookie' });
    const tokens = await signIn(stack, account.email, account.password);
    const page = await accountWith(tokens.refreshToken);
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/login');
  });

  it('rotates the credential while in use; parallel tabs ride a short grace; the old one past grace ends the session', async () => {
    const account = await createAccount(stack, { label: 'rotate' });
    const { credential: first } = await browserSignedIn(account);
    const sessionId = await sessionIdOf(first);

    // Fresh: used as is.
    const fresh = await accountWith(first);
    expect(fresh.status).toBe(200);
    expect(newSessionCookie(fresh.headers['set-cookie'])).toBeUndefined();

    // Due for rotation: several tabs at once, exactly one new credential, every tab served.
    await stack.sql("update browser_credentials set created_at = now() - interval '1 hour' where session_id = ?", [sessionId]);
    const tabs = await Promise.all(Array.from({ length: 5 }, () => accountWith(first)));
    expect(tabs.map((t) => t.status)).toEqual([200, 200, 200, 200, 200]);
    const issued = tabs.map((t) => newSessionCookie(t.headers['set-cookie'])).filter((c): c is string => c !== undefined);
    expect(issued).toHaveLength(1);
    const second = issued[0];
    expect(second).not.toBe(first);
    expect(await sessionIdOf(second)).toBe(sessionId);
    const setCookie = tabs.flatMap((t) => t.headers['set-cookie'] ?? []).find((l) => l.startsWith(`${SESSION}=`))!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).toMatch(/Path=\//i);

    // Within the grace the replaced credential still works (a tab whose request was on its way).
    expect((await accountWith(first)).status).toBe(200);
    expect((await accountWith(second)).status).toBe(200);

    // Past the grace it has leaked or was copied: presenting it ends the whole session.
    await stack.sql("update browser_credentials set replaced_at = now() - interval '1 hour' where token_hash = encode(sha256(convert_to(?, 'UTF8')), 'hex')", [first]);
    const replay = await accountWith(first);
    expect(replay.status).toBe(303);
    expect(replay.headers.location).toBe('/login');
    const after = await accountWith(second);
    expect(after.status).toBe(303);
    const [session] = await stack.sql<{ revoked_at: Date | null }>('select revoked_at from sessions where id = ?', [sessionId]);
    expect(session.revoked_at).not.toBeNull();
  });

  it('refuses a CSRF token of one session in another, and an anonymous form token on signed-in forms', async () => {
    const alice = await createAccount(stack, { label: 'csrf-alice' });
    const bob = await createAccount(stack, { label: 'csrf-bob' });
    // One browser (one CSRF cookie): Alice signs in and out, then Bob signs in.
    const browser = new ApiClient(stack.api.baseUrl);
    expect((await browser.form('/login', { email: alice.email, password: alice.password })).status).toBe(303);
    const alicePage = await browser.request<string>('GET', '/account');
    const aliceToken = /name="_csrf" value="([^"]+)"/.exec(alicePage.body)![1];
    expect((await browser.form('/logout', { _csrf: aliceToken })).status).toBe(303);
    expect((await browser.form('/login', { email: bob.email, password: bob.password })).status).toBe(303);
    const bobCredential = browser.cookie(SESSION)!;

    const anonymousToken = await browser.csrfToken('/forgot-password');
    for (const [label, token] of [['Alice session token', aliceToken], ['anonymous form token', anonymousToken]]) {
      for (const path of ['/account/sign-out-everywhere', '/logout', '/account/password']) {
        const newPassword = strongPassword();
        const fields: Record<string, string> = path === '/account/password' ? { currentPassword: bob.password, newPassword, passwordConfirm: newPassword } : {};
        const forged = await browser.form(path, { ...fields, _csrf: token });
        expect({ label, path, status: forged.status }).toEqual({ label, path, status: 403 });
      }
    }
    // Bob is still signed in with his password unchanged; his own page's token works.
    expect(browser.cookie(SESSION)).toBe(bobCredential);
    const bobPage = await browser.request<string>('GET', '/account');
    expect(bobPage.status).toBe(200);
    expect((await stack.api.post('/auth/login', { email: bob.email, password: bob.password })).status).toBe(200);
    const bobToken = /name="_csrf" value="([^"]+)"/.exec(bobPage.body)![1];
    expect((await browser.form('/logout', { _csrf: bobToken })).status).toBe(303);
    expect((await accountWith(bobCredential)).status).toBe(303);
  });

  it('ends with the session: page sign-out, API sign-out everywhere, password change and reset elsewhere', async () => {
    const account = await createAccount(stack, { label: 'ends' });
    const ends: Array<[string, () => Promise<void>]> = [
      ['API sign-out everywhere', async () => {
        const api = await signIn(stack, account.email, account.password);
        expect((await stack.api.delete('/auth/sessions', api.accessToken)).status).toBe(204);
      }],
      ['API password change', async () => {
        const api = await signIn(stack, account.email, account.password);
        const next = strongPassword();
        expect((await stack.api.post('/auth/password/change', { currentPassword: account.password, newPassword: next }, api.accessToken)).status).toBe(204);
        account.password = next;
      }],
      ['password reset', async () => {
        const next = strongPassword();
        expect((await stack.api.post('/auth/password/reset', { token: await requestResetToken(stack, account.email), password: next })).status).toBe(204);
        account.password = next;
      }],
    ];
    for (const [label, end] of ends) {
      const { credential } = await browserSignedIn(account);
      expect({ label, status: (await accountWith(credential)).status }).toEqual({ label, status: 200 });
      await end();
      expect({ label, status: (await accountWith(credential)).status }).toEqual({ label, status: 303 });
    }
    const { browser, credential } = await browserSignedIn(account);
    const page = await browser.request<string>('GET', '/account');
    expect((await browser.form('/logout', { _csrf: /name="_csrf" value="([^"]+)"/.exec(page.body)![1] })).status).toBe(303);
    expect((await accountWith(credential)).status).toBe(303);
  });

  it('a password change on the account page leaves a copied cookie signed out and the changing browser signed in', async () => {
    const account = await createAccount(stack, { label: 'page-change' });
    const { browser, credential: copied } = await browserSignedIn(account);
    // A tab the owner left open and a copy of the cookie elsewhere: both carry credentials of this session.
    await stack.sql("update browser_credentials set created_at = now() - interval '1 hour' where session_id = ?", [await sessionIdOf(copied)]);
    const rotated = newSessionCookie((await accountWith(copied)).headers['set-cookie']);
    expect(rotated).toBeDefined();
    expect((await accountWith(copied)).status).toBe(200); // within the rotation grace

    const newPassword = strongPassword();
    const change = await browser.form('/account/password', { currentPassword: account.password, newPassword, passwordConfirm: newPassword });
    expect({ status: change.status, location: change.headers.get('location') }).toEqual({ status: 303, location: '/account?changed=1' });
    const fresh = browser.cookie(SESSION);
    expect(fresh).toBeDefined();
    expect([copied, rotated]).not.toContain(fresh);

    for (const old of [copied, rotated!]) {
      const stolen = await accountWith(old);
      expect({ status: stolen.status, location: stolen.headers.location }).toEqual({ status: 303, location: '/login' });
    }
    // The old credentials were withdrawn, not reused: the session itself lives on in the changing browser.
    expect((await browser.request('GET', '/account')).status).toBe(200);
    expect((await accountWith(fresh!)).status).toBe(200);
  });

  it('in production names its cookies __Host- and marks them Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain', async () => {
    const production = await startStack({ env: { NODE_ENV: 'production', RATE_LIMIT_ENABLED: 'true', JWT_SECRET: randomBytes(48).toString('base64'), PAYLOAD_KEY: randomBytes(32).toString('base64'), MFA_KEY: randomBytes(32).toString('base64') }, withoutWorker: true });
    try {
      const account = await createAccount(production, { label: 'host-prefix' });
      const browser = new ApiClient(production.api.baseUrl);
      const form = await browser.request('GET', '/login');
      const login = await browser.form('/login', { email: account.email, password: account.password });
      expect(login.status).toBe(303);
      const lines = [...form.headers.getSetCookie(), ...login.headers.getSetCookie()];
      for (const name of ['__Host-accounts_csrf', '__Host-accounts_session']) {
        const line = lines.find((l) => l.startsWith(`${name}=`));
        expect({ name, line }).toEqual({ name, line: expect.stringMatching(/; Secure/i) });
        expect(line).toMatch(/; HttpOnly/i);
        expect(line).toMatch(/; SameSite=Lax/i);
        expect(line).toMatch(/; Path=\/(;|$)/i);
        expect(line).not.toMatch(/Domain=/i);
      }
      expect(lines.some((l) => /^accounts_(session|csrf)=/.test(l))).toBe(false);
      expect((await browser.request('GET', '/account')).status).toBe(200);
      // The unprefixed name is not read: a cookie planted without the prefix signs nobody in.
      const planted = await rawRequest(production.api.baseUrl, 'GET', '/account', { headers: { cookie: `${SESSION}=${browser.cookie('__Host-accounts_session')}` } });
      expect(planted.status).toBe(303);
    } finally {
      await production.close();
    }
  });
});

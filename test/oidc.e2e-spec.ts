import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { MikroORM, RequestContext } from '@mikro-orm/core';
import { AuthService, ReauthenticationRequiredError, WrongCurrentPasswordError } from '@accounts/auth';
import { ApiClient } from './support/api-client';
import { MiniBrowser, silentPort, TestOidcProvider, type Tamper, type TestAccount } from './support/oidc-provider';
import { freePort } from './support/private-redis';
import { requestChangeToken } from './support/email-change';
import { enableMfaOnClaim, mfaTokenFor } from './support/mfa';
import { createAccount, expectProblem, nextMail, requestResetToken, signIn } from './support/security';
import { totpCode } from './support/totp';
import { startStack, type Stack } from './support/stack';
import { strongPassword, uniqueEmail } from './support/unique';

const APP_REDIRECT = 'https://app.example/callback';
const MOBILE_REDIRECT = 'com.example.app:/oauth';
const LOOPBACK_REDIRECT = 'http://127.0.0.1:8765/cb';

/** An app's PKCE pair (RFC 7636, S256). */
function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * Sign-in through an external identity provider (SPEC §12), against a real OpenID Provider on
 * localhost (the certified oidc-provider package): the browser flow over HTTP, the API consumers'
 * flow, the joining rules, tampering with every part of the protocol, and providers that are down.
 */
describe('sign-in with an OpenID Provider', () => {
  let stack: Stack;
  let provider: TestOidcProvider;
  let hung: Awaited<ReturnType<typeof silentPort>>;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    provider = await TestOidcProvider.start([
      { clientId: 'accounts', clientSecret: 'test-provider-client-secret', redirectUris: [`${base}/auth/oidc/corp/callback`] },
    ]);
    hung = await silentPort();
    stack = await startStack({
      port,
      env: {
        APP_URL: base,
        OIDC_PROVIDERS: 'corp,down,hung',
        OIDC_CORP_ISSUER: provider.issuer,
        OIDC_CORP_CLIENT_ID: 'accounts',
        OIDC_CORP_CLIENT_SECRET: 'test-provider-client-secret',
        OIDC_CORP_LABEL: 'Corp SSO',
        // Nothing listens on port 1: connection refused.
        OIDC_DOWN_ISSUER: 'http://127.0.0.1:1',
        OIDC_DOWN_CLIENT_ID: 'accounts',
        OIDC_DOWN_CLIENT_SECRET: 'unused',
        OIDC_HUNG_ISSUER: hung.url,
        OIDC_HUNG_CLIENT_ID: 'accounts',
        OIDC_HUNG_CLIENT_SECRET: 'unused',
        OIDC_REDIRECT_ALLOWLIST: `${APP_REDIRECT},${MOBILE_REDIRECT},${LOOPBACK_REDIRECT}`,
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await provider?.stop();
    await hung?.close();
  });

  const callbackPrefix = () => `${base}/auth/oidc/corp/callback`;
  const account = (overrides: Partial<TestAccount> = {}): TestAccount => ({
    sub: `sub-${randomBytes(6).toString('hex')}`,
    email: uniqueEmail('oidc'),
    email_verified: true,
    name: 'Grace Hopper',
    ...overrides,
  });

  /** Starts a browser sign-in at corp and walks through the provider up to (not into) our callback. */
  async function toCallback(browser: MiniBrowser, who?: TestAccount, options: { tamper?: Tamper; deny?: boolean } = {}) {
    await provider.next({ account: who, ...options });
    const { stoppedAt, response } = await browser.follow(`${base}/auth/oidc/corp`, (url) => url.startsWith(callbackPrefix()));
    if (!stoppedAt) throw new Error(`never reached the callback: ${response?.status} ${await response?.text()} ${provider.log}`);
    return new URL(stoppedAt);
  }

  /** The whole browser flow; returns the callback's answer. */
  async function browserSignIn(browser: MiniBrowser, who: TestAccount) {
    return browser.get((await toCallback(browser, who)).href);
  }

  /** An API consumer's flow, through the provider and our callback to the app's redirect URI; returns its query. */
  async function consumerFlow(who: TestAccount, redirectUri = APP_REDIRECT, state = 'app-state-1', challenge?: string) {
    await provider.next({ account: who });
    const pkce: Record<string, string> = challenge === undefined ? {} : { code_challenge: challenge, code_challenge_method: 'S256' };
    const { stoppedAt } = await new MiniBrowser().follow(
      `${base}/api/v1/auth/oidc/corp/authorize?${new URLSearchParams({ redirect_uri: redirectUri, state, ...pkce })}`,
      (url) => url.startsWith(redirectUri),
    );
    return new URL(stoppedAt!).searchParams;
  }

  /** A consumer's flow and the exchange of its code: the login shape. */
  async function apiSession(who: TestAccount) {
    const exchanged = await stack.api.post('/auth/oidc/exchange', { code: (await consumerFlow(who)).get('code') });
    expect(exchanged.status).toBe(200);
    return exchanged.body as { accessToken: string; refreshToken: string; user: { id: string } };
  }

  async function accountPage(browser: MiniBrowser) {
    const response = await browser.get(`${base}/account`);
    return { status: response.status, text: await response.text() };
  }

  const userRow = async (email: string) =>
    (await stack.sql<{ id: string; password_hash: string | null; email_confirmed_at: string | null; name: string | null }>(
      'select id, password_hash, email_confirmed_at, name from users where email_canonical = ?',
      [email.toLowerCase()],
    ))[0];
  const activity = (userId: string) => stack.sql<{ type: string }>('select type from account_activity where user_id = ? order by id', [userId]);

  /** The page in words a failed callback shows; never a session. */
  async function expectFailurePage(response: Response, status: number, words: RegExp, browser: MiniBrowser) {
    const text = await response.text();
    expect({ status: response.status, text }).toEqual({ status, text: expect.stringMatching(words) });
    expect(text).not.toMatch(/[A-Z]+_[A-Z]+/);
    expect(browser.cookie('accounts_session')).toBeUndefined();
  }

  describe('browser flow', () => {
    it('creates a confirmed account without a password and signs the browser in on /account', async () => {
      const browser = new MiniBrowser();
      const who = account();
      await provider.next({ account: who });
      const authorization = new URL((await browser.get(`${base}/auth/oidc/corp`)).headers.get('location')!);
      // The authorization code flow with PKCE S256, state and nonce.
      expect(Object.fromEntries(authorization.searchParams)).toMatchObject({
        response_type: 'code',
        client_id: 'accounts',
        redirect_uri: `${base}/auth/oidc/corp/callback`,
        code_challenge_method: 'S256',
        code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        state: expect.any(String),
        nonce: expect.any(String),
        scope: 'openid email profile',
      });
      const { stoppedAt } = await browser.follow(authorization.href, (url) => url.startsWith(callbackPrefix()));
      const callback = await browser.get(stoppedAt!);
      expect({ status: callback.status, location: callback.headers.get('location') }).toEqual({ status: 303, location: '/account' });

      const page = await accountPage(browser);
      expect(page.status).toBe(200);
      expect(page.text).toContain(who.email);
      expect(page.text).toContain('Corp SSO');
      expect(page.text).toContain('Your account has no password');

      const user = await userRow(who.email!);
      expect(user).toMatchObject({ password_hash: null, email_confirmed_at: expect.anything(), name: 'Grace Hopper' });
      expect((await activity(user.id)).map((row) => row.type)).toContain('identity.linked');
      // No password to guess: any password is wrong, answered like a wrong one.
      expectProblem(await stack.api.post('/auth/login', { email: who.email, password: strongPassword() }), 401, 'INVALID_CREDENTIALS');
    });

    it('signs the same account in again by issuer and subject, whatever the address says now', async () => {
      const who = account();
      await browserSignIn(new MiniBrowser(), who);
      const again = new MiniBrowser();
      const callback = await browserSignIn(again, { ...who, email: uniqueEmail('changed'), email_verified: false });
      expect(callback.status).toBe(303);
      expect((await accountPage(again)).text).toContain(who.email);
      const [{ n }] = await stack.sql<{ n: number }>('select count(*)::int as n from identities i join users u on u.id = i.user_id where u.email_canonical = ?', [who.email]);
      expect(n).toBe(1);
    });

    it('links the identity to a confirmed account with that address and mails the owner a notice', async () => {
      const owner = await createAccount(stack, { label: 'oidc-owner' });
      const notice = nextMail(stack.sink, owner.email, /can now sign you in/);
      const browser = new MiniBrowser();
      expect((await browserSignIn(browser, account({ email: owner.email.toUpperCase() }))).status).toBe(303);
      expect((await accountPage(browser)).text).toContain(owner.email);

      const mail = await notice;
      expect(mail.text).toContain('Corp SSO');
      expect(mail.text).toContain(`${base}/account`);
      // The owner keeps the password and their sessions.
      expect((await stack.api.post('/auth/login', { email: owner.email, password: owner.password })).status).toBe(200);
      expect((await activity(owner.userId)).map((row) => row.type)).toContain('identity.linked');
    });

    it('takes over an unconfirmed account: the claimant\'s password stops working and their sessions end', async () => {
      // Confirmation is off here, so a claimant who registered the victim's address is signed in.
      const claimant = await createAccount(stack, { label: 'oidc-prehijack', confirmed: false });
      const claimantSession = await signIn(stack, claimant.email, claimant.password);
      expect((await stack.api.get('/users/me', claimantSession.accessToken)).status).toBe(200);

      const owner = new MiniBrowser();
      expect((await browserSignIn(owner, account({ email: claimant.email, name: 'The Owner' }))).status).toBe(303);
      expect((await accountPage(owner)).text).toContain(claimant.email);

      expectProblem(await stack.api.post('/auth/login', { email: claimant.email, password: claimant.password }), 401, 'INVALID_CREDENTIALS');
      expectProblem(await stack.api.get('/users/me', claimantSession.accessToken), 401, 'UNAUTHENTICATED');
      expectProblem(await stack.api.post('/auth/refresh', { refreshToken: claimantSession.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
      expect(await userRow(claimant.email)).toMatchObject({ id: claimant.userId, password_hash: null, email_confirmed_at: expect.anything(), name: 'The Owner' });
    });

    it('spends a claimant\'s pending reset link when the account is taken over', async () => {
      const claimant = await createAccount(stack, { label: 'oidc-prehijack-reset', confirmed: false });
      const resetToken = await requestResetToken(stack, claimant.email);
      await browserSignIn(new MiniBrowser(), account({ email: claimant.email }));
      expectProblem(await stack.api.post('/auth/password/reset', { token: resetToken, password: strongPassword() }), 400, 'INVALID_TOKEN');
    });

    it("takes over a claim without the claimant's second factor, pending MFA challenge or pending email change link", async () => {
      const claimant = await createAccount(stack, { label: 'oidc-prehijack-factors', confirmed: false });
      const mfa = await enableMfaOnClaim(stack, claimant);
      const mfaToken = await mfaTokenFor(stack, claimant);
      const changeToken = await requestChangeToken(stack, claimant, mfa.session, uniqueEmail('oidc-prehijack-attacker'));

      // The owner is signed in straight away, not stopped at the claimant's second factor.
      expect((await browserSignIn(new MiniBrowser(), account({ email: claimant.email }))).status).toBe(303);
      expect(await stack.sql('select id from users where id = ? and mfa_enabled_at is not null', [claimant.userId])).toEqual([]);
      expect(await stack.sql('select user_id from mfa_totp where user_id = ?', [claimant.userId])).toEqual([]);
      expectProblem(await stack.api.post('/auth/login/mfa', { mfaToken, code: totpCode(mfa.secret, 1) }), 401, 'INVALID_MFA_TOKEN');
      expectProblem(await stack.api.post('/auth/email/change/confirm', { token: changeToken }), 400, 'INVALID_TOKEN');
      expect((await userRow(claimant.email))?.id).toBe(claimant.userId);
    });

    it('joins and creates nothing when the provider does not verify the address, and says why', async () => {
      const browser = new MiniBrowser();
      const who = account({ email_verified: false });
      await expectFailurePage(await browserSignIn(browser, who), 403, /does not confirm that you own an email address/, browser);
      expect(await userRow(who.email!)).toBeUndefined();

      // Nor does an address without email_verified take over an existing account.
      const owner = await createAccount(stack, { label: 'oidc-unverified' });
      await expectFailurePage(await browserSignIn(new MiniBrowser(), account({ email: owner.email, email_verified: undefined })), 403, /does not confirm/, browser);
      const [{ n }] = await stack.sql<{ n: number }>('select count(*)::int as n from identities where user_id = ?', [owner.userId]);
      expect(n).toBe(0);
    });

    it('shows a page in words when the user declines at the provider', async () => {
      const browser = new MiniBrowser();
      const callback = await toCallback(browser, undefined, { deny: true });
      expect(callback.searchParams.get('error')).toBe('access_denied');
      await expectFailurePage(await browser.get(callback.href), 400, /cancelled at the identity provider/, browser);
    });
  });

  describe('tampering', () => {
    it('refuses a changed state, a callback carried to another browser, and a second use of a state', async () => {
      const browser = new MiniBrowser();
      const callback = await toCallback(browser, account());
      const tampered = new URL(callback);
      tampered.searchParams.set('state', `${callback.searchParams.get('state')}x`);
      await expectFailurePage(await browser.get(tampered.href), 400, /not started in this browser/, browser);

      // Login CSRF: the victim's browser never started this flow, so it signs nobody in there.
      const victim = new MiniBrowser();
      await expectFailurePage(await victim.get(callback.href), 400, /not started in this browser/, victim);
      // A forged binding cookie does not help either.
      victim.setCookie('accounts_oidc', randomBytes(32).toString('base64url'));
      await expectFailurePage(await victim.get(callback.href), 400, /not started in this browser/, victim);

      expect((await browser.get(callback.href)).status).toBe(303);
      const replay = new MiniBrowser();
      replay.setCookie('accounts_oidc', browser.cookie('accounts_oidc')!);
      await expectFailurePage(await replay.get(callback.href), 400, /already used/, replay);
    });

    it('refuses an ID token whose nonce is not the one this sign-in sent', async () => {
      const browser = new MiniBrowser();
      await expectFailurePage(await browser.get((await toCallback(browser, account(), { tamper: 'wrong-nonce' })).href), 400, /could not be verified/, browser);
    });

    it('refuses a stolen code redeemed in another flow: its PKCE verifier does not match', async () => {
      const victim = new MiniBrowser();
      const victimCallback = await toCallback(victim, account());
      const attacker = new MiniBrowser();
      const attackerCallback = await toCallback(attacker, account());
      // The attacker's own state and binding, the victim's code: the provider checks it against the attacker's verifier.
      const injected = new URL(attackerCallback);
      injected.searchParams.set('code', victimCallback.searchParams.get('code')!);
      await expectFailurePage(await attacker.get(injected.href), 400, /could not be verified/, attacker);
    });

    it("refuses a replayed provider code", async () => {
      const browser = new MiniBrowser();
      const first = await toCallback(browser, account());
      expect((await browser.get(first.href)).status).toBe(303);
      const fresh = new MiniBrowser();
      const next = await toCallback(fresh, account());
      const replayed = new URL(next);
      replayed.searchParams.set('code', first.searchParams.get('code')!);
      await expectFailurePage(await fresh.get(replayed.href), 400, /could not be verified/, fresh);
    });

    it.each(['wrong-aud', 'wrong-iss', 'expired', 'bad-signature'] as const)('refuses an ID token with %s', async (tamper) => {
      const browser = new MiniBrowser();
      const who = account();
      await expectFailurePage(await browser.get((await toCallback(browser, who, { tamper })).href), 400, /could not be verified/, browser);
      expect(await userRow(who.email!)).toBeUndefined();
    });
  });

  describe('API consumers', () => {
    async function authorize(query: Record<string, string>) {
      const browser = new MiniBrowser();
      const response = await browser.get(`${base}/api/v1/auth/oidc/corp/authorize?${new URLSearchParams(query)}`);
      return { browser, response };
    }

    it('redirects to the app with a one-time code that exchanges for the login shape once', async () => {
      const who = account();
      const back = await consumerFlow(who);
      expect(back.get('state')).toBe('app-state-1');
      const code = back.get('code')!;
      expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const [{ n }] = await stack.sql<{ n: number }>('select count(*)::int as n from oidc_exchange_codes where code_hash = ?', [code]);
      expect(n).toBe(0);

      const exchanged = await stack.api.post('/auth/oidc/exchange', { code });
      expect(exchanged.status).toBe(200);
      expect(exchanged.headers.get('cache-control')).toBe('no-store');
      expect(exchanged.body).toMatchObject({ tokenType: 'Bearer', accessToken: expect.any(String), refreshToken: expect.any(String), user: { email: who.email, emailConfirmed: true } });
      expectProblem(await stack.api.post('/auth/oidc/exchange', { code }), 400, 'INVALID_TOKEN');

      const identities = await stack.api.get('/users/me/identities', exchanged.body.accessToken);
      expect(identities.status).toBe(200);
      expect(identities.body).toEqual([
        { id: expect.any(String), issuer: provider.issuer, provider: { id: 'corp', label: 'Corp SSO' }, email: who.email, createdAt: expect.any(String) },
      ]);
    });

    it('lets exactly one of ten parallel exchanges of a code succeed', async () => {
      const code = (await consumerFlow(account())).get('code');
      const answers = await Promise.all(Array.from({ length: 10 }, () => stack.api.post('/auth/oidc/exchange', { code })));
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, ...Array(9).fill(400)]);
    });

    it('works for a mobile app\'s private-use scheme and a loopback address, with PKCE', async () => {
      for (const redirectUri of [MOBILE_REDIRECT, LOOPBACK_REDIRECT]) {
        const { verifier, challenge } = pkcePair();
        const back = await consumerFlow(account(), redirectUri, 'm', challenge);
        const exchanged = await stack.api.post('/auth/oidc/exchange', { code: back.get('code'), code_verifier: verifier, redirect_uri: redirectUri });
        expect({ redirectUri, status: exchanged.status }).toEqual({ redirectUri, status: 200 });
      }
    });

    it('lets a code expire after 60 seconds', async () => {
      const code = (await consumerFlow(account())).get('code')!;
      await stack.sql("update oidc_exchange_codes set expires_at = now() - interval '1 second' where expires_at > now()");
      expectProblem(await stack.api.post('/auth/oidc/exchange', { code }), 400, 'INVALID_TOKEN');
    });

    it('tells the app on its redirect URI when the provider vouches for no address', async () => {
      const back = await consumerFlow(account({ email_verified: false }), APP_REDIRECT, 's2');
      expect(Object.fromEntries(back)).toEqual({ error: 'email_not_verified', state: 's2' });
    });

    it.each([
      ['a foreign URI', 'https://evil.example/callback'],
      ['a longer path', `${APP_REDIRECT}x`],
      ['a sub-path', `${APP_REDIRECT}/../../evil`],
      ['an added query', `${APP_REDIRECT}?next=https://evil.example`],
      ['a look-alike host', 'https://app.example.evil.example/callback'],
      ['userinfo', 'https://app.example@evil.example/callback'],
      ['another case', 'HTTPS://APP.EXAMPLE/callback'],
      ['a trailing slash', `${APP_REDIRECT}/`],
      ['a fragment', `${APP_REDIRECT}#x`],
      ['an encoded variant', 'https://app.example/%63allback'],
      ['a scheme prefix', `${MOBILE_REDIRECT}/evil`],
    ])('refuses %s as redirect_uri before going anywhere', async (_name, redirectUri) => {
      const { response, browser } = await authorize({ redirect_uri: redirectUri });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'REDIRECT_URI_NOT_ALLOWED' });
      expect(browser.cookie('accounts_oidc')).toBeUndefined();
    });

    it('refuses a missing redirect_uri, a bad state and an unknown provider', async () => {
      expect(await (await authorize({})).response.json()).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(await (await authorize({ redirect_uri: APP_REDIRECT, state: 'a\r\nb' })).response.json()).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      const unknown = await new MiniBrowser().get(`${base}/api/v1/auth/oidc/nope/authorize?redirect_uri=${encodeURIComponent(APP_REDIRECT)}`);
      expect({ status: unknown.status, body: await unknown.json() }).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    });

    it('refuses malformed exchange bodies and unknown codes', async () => {
      expectProblem(await stack.api.post('/auth/oidc/exchange', {}), 400, 'VALIDATION_FAILED');
      expectProblem(await stack.api.post('/auth/oidc/exchange', { code: 42 }), 400, 'VALIDATION_FAILED');
      expectProblem(await stack.api.post('/auth/oidc/exchange', { code: 'x'.repeat(600) }), 400, 'VALIDATION_FAILED');
      expectProblem(await stack.api.post('/auth/oidc/exchange', { code: randomBytes(32).toString('base64url'), extra: 1 }), 400, 'VALIDATION_FAILED');
      expectProblem(await stack.api.post('/auth/oidc/exchange', { code: randomBytes(32).toString('base64url') }), 400, 'INVALID_TOKEN');
    });
    describe('PKCE (RFC 7636, S256) and the redirect URI at the exchange', () => {
      const exchange = (body: Record<string, unknown>) => stack.api.post('/auth/oidc/exchange', body);

      it.each([
        ['a private-use scheme', MOBILE_REDIRECT],
        ['a loopback http address', LOOPBACK_REDIRECT],
      ])('refuses to start a flow for %s without a code_challenge', async (_name, redirectUri) => {
        const { response, browser } = await authorize({ redirect_uri: redirectUri, state: 's' });
        expect({ status: response.status, body: await response.json() }).toMatchObject({ status: 400, body: { code: 'PKCE_REQUIRED' } });
        expect(browser.cookie('accounts_oidc')).toBeUndefined();
      });

      it('keeps the code of a native app useless to another app that catches the redirect', async () => {
        const app = pkcePair();
        const caught = (await consumerFlow(account(), MOBILE_REDIRECT, 'n', app.challenge)).get('code')!;
        // The intercepting app holds the code, not the verifier: refused, and the code is spent.
        expectProblem(await exchange({ code: caught }), 400, 'INVALID_TOKEN');
        expectProblem(await exchange({ code: caught, code_verifier: app.verifier }), 400, 'INVALID_TOKEN');

        const guessed = (await consumerFlow(account(), MOBILE_REDIRECT, 'n', app.challenge)).get('code')!;
        expectProblem(await exchange({ code: guessed, code_verifier: pkcePair().verifier }), 400, 'INVALID_TOKEN');
        expectProblem(await exchange({ code: guessed, code_verifier: app.verifier }), 400, 'INVALID_TOKEN');

        // Only the app that started the flow, with its verifier, gets the session.
        const who = account();
        const mine = (await consumerFlow(who, MOBILE_REDIRECT, 'n', app.challenge)).get('code')!;
        const exchanged = await exchange({ code: mine, code_verifier: app.verifier });
        expect(exchanged.status).toBe(200);
        expect(exchanged.body).toMatchObject({ user: { email: who.email } });
      });

      it('lets exactly one of ten parallel exchanges with the right verifier succeed', async () => {
        const app = pkcePair();
        const code = (await consumerFlow(account(), MOBILE_REDIRECT, 'p', app.challenge)).get('code');
        const answers = await Promise.all(Array.from({ length: 10 }, () => exchange({ code, code_verifier: app.verifier })));
        expect(answers.map((answer) => answer.status).sort()).toEqual([200, ...Array(9).fill(400)]);
      });

      it('takes PKCE on an https redirect URI too, and then requires the verifier', async () => {
        const app = pkcePair();
        const withoutVerifier = (await consumerFlow(account(), APP_REDIRECT, 'h', app.challenge)).get('code')!;
        expectProblem(await exchange({ code: withoutVerifier }), 400, 'INVALID_TOKEN');
        const code = (await consumerFlow(account(), APP_REDIRECT, 'h', app.challenge)).get('code')!;
        expect((await exchange({ code, code_verifier: app.verifier })).status).toBe(200);
      });

      it('refuses a verifier for a flow started without a challenge (no downgrade), spending the code', async () => {
        const code = (await consumerFlow(account())).get('code')!;
        expectProblem(await exchange({ code, code_verifier: pkcePair().verifier }), 400, 'INVALID_TOKEN');
        expectProblem(await exchange({ code }), 400, 'INVALID_TOKEN');
      });

      it('checks a redirect_uri named at the exchange against the flow\'s, spending the code on a mismatch', async () => {
        const named = (await consumerFlow(account())).get('code')!;
        expect((await exchange({ code: named, redirect_uri: APP_REDIRECT })).status).toBe(200);

        const app = pkcePair();
        const code = (await consumerFlow(account(), MOBILE_REDIRECT, 'r', app.challenge)).get('code')!;
        expectProblem(await exchange({ code, code_verifier: app.verifier, redirect_uri: APP_REDIRECT }), 400, 'INVALID_TOKEN');
        expectProblem(await exchange({ code, code_verifier: app.verifier, redirect_uri: MOBILE_REDIRECT }), 400, 'INVALID_TOKEN');
      });

      it('stores the challenge with the flow and the code, never the verifier', async () => {
        const app = pkcePair();
        const code = (await consumerFlow(account(), MOBILE_REDIRECT, 'c', app.challenge)).get('code')!;
        const rows = await stack.sql<{ code_challenge: string }>('select code_challenge from oidc_exchange_codes where code_challenge = ?', [app.challenge]);
        expect(rows).toEqual([{ code_challenge: app.challenge }]);
        expect((await exchange({ code, code_verifier: app.verifier })).status).toBe(200);
      });

      it.each([
        ['a challenge without a method', { code_challenge: pkcePair().challenge }],
        ['the plain method', { code_challenge: pkcePair().challenge, code_challenge_method: 'plain' }],
        ['a method without a challenge', { code_challenge_method: 'S256' }],
        ['a short challenge', { code_challenge: 'A'.repeat(42), code_challenge_method: 'S256' }],
        ['a long challenge', { code_challenge: 'A'.repeat(129), code_challenge_method: 'S256' }],
        ['a challenge outside base64url', { code_challenge: `${'A'.repeat(42)}=`, code_challenge_method: 'S256' }],
        ['CRLF in the challenge', { code_challenge: `${'A'.repeat(41)}\r\n`, code_challenge_method: 'S256' }],
        ['two challenges', 'code_challenge=X&code_challenge=Y'],
      ])('refuses %s at authorize', async (_name, query) => {
        const search = typeof query === 'string' ? `${query}&${new URLSearchParams({ redirect_uri: MOBILE_REDIRECT })}` : new URLSearchParams({ redirect_uri: MOBILE_REDIRECT, ...query });
        const browser = new MiniBrowser();
        const response = await browser.get(`${base}/api/v1/auth/oidc/corp/authorize?${search}`);
        expect({ status: response.status, body: await response.json() }).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
        expect(browser.cookie('accounts_oidc')).toBeUndefined();
      });

      it('refuses malformed verifiers and redirect URIs at the exchange', async () => {
        const code = randomBytes(32).toString('base64url');
        for (const bad of [{ code_verifier: 'a'.repeat(42) }, { code_verifier: 'a'.repeat(129) }, { code_verifier: `${'a'.repeat(43)}\n` }, { code_verifier: 42 }, { redirect_uri: 'x'.repeat(2049) }, { redirect_uri: 7 }]) {
          expectProblem(await exchange({ code, ...bad }), 400, 'VALIDATION_FAILED');
        }
      });
    });
  });

  describe('identities and re-authentication', () => {
    it('never unlinks the last way to sign in; with a password set, unlinking works', async () => {
      const who = account();
      const session = await apiSession(who);
      const [identity] = (await stack.api.get('/users/me/identities', session.accessToken)).body;

      expectProblem(await stack.api.delete(`/users/me/identities/${identity.id}`, session.accessToken), 409, 'LAST_SIGN_IN_METHOD');
      expectProblem(await stack.api.delete('/users/me/identities/not-a-uuid', session.accessToken), 404, 'NOT_FOUND');
      expectProblem(await stack.api.delete(`/users/me/identities/${randomUUID()}`, session.accessToken), 404, 'NOT_FOUND');

      // Forgot-password gives the account a password; the reset ends its sessions.
      const password = strongPassword();
      expect((await stack.api.post('/auth/password/reset', { token: await requestResetToken(stack, who.email!), password })).status).toBe(204);
      const signedIn = await signIn(stack, who.email!, password);
      expect((await stack.api.delete(`/users/me/identities/${identity.id}`, signedIn.accessToken)).status).toBe(204);
      expect((await stack.api.get('/users/me/identities', signedIn.accessToken)).body).toEqual([]);
      const user = await userRow(who.email!);
      expect((await activity(user.id)).map((row) => row.type)).toEqual(expect.arrayContaining(['identity.linked', 'identity.unlinked']));
    });

    it('counts only identities of configured providers as ways to sign in', async () => {
      const who = account();
      const session = await apiSession(who);
      const [current] = (await stack.api.get('/users/me/identities', session.accessToken)).body;
      // An identity whose provider was removed from OIDC_PROVIDERS: it can no longer sign anyone in.
      await stack.sql(
        "insert into identities (id, user_id, issuer, subject, email, created_at) values (?, ?, 'https://retired.example', 'sub-retired', ?, now())",
        [randomUUID(), session.user.id, who.email],
      );
      const listed = (await stack.api.get('/users/me/identities', session.accessToken)).body as Array<{ id: string; provider: unknown }>;
      const retired = listed.find((identity) => identity.provider === null)!;
      expect(listed).toHaveLength(2);

      expectProblem(await stack.api.delete(`/users/me/identities/${current.id}`, session.accessToken), 409, 'LAST_SIGN_IN_METHOD');
      // Removing the retired one takes no way to sign in away.
      expect((await stack.api.delete(`/users/me/identities/${retired.id}`, session.accessToken)).status).toBe(204);
      expect((await stack.api.get('/users/me/identities', session.accessToken)).body).toEqual([current]);
    });

    it("does not unlink another account's identity", async () => {
      const first = new MiniBrowser();
      const firstWho = account();
      await browserSignIn(first, firstWho);
      const [{ id }] = await stack.sql<{ id: string }>('select i.id from identities i join users u on u.id = i.user_id where u.email_canonical = ?', [firstWho.email]);
      const other = await createAccount(stack, { label: 'oidc-other' });
      const session = await signIn(stack, other.email, other.password);
      expectProblem(await stack.api.delete(`/users/me/identities/${id}`, session.accessToken), 404, 'NOT_FOUND');
    });

    it('refuses on the account page, in words, to remove the last way to sign in', async () => {
      const browser = new MiniBrowser();
      const who = account();
      await browserSignIn(browser, who);
      const page = (await accountPage(browser)).text;
      const action = /action="(\/account\/identities\/[0-9a-f-]+\/unlink)"/.exec(page)![1];
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1];
      const client = new ApiClient(base);
      const response = await client.request('POST', action, {
        body: new URLSearchParams({ _csrf: csrf }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: browser.cookieHeader() },
      });
      expect(response.status).toBe(409);
      expect(response.body).toContain('This is the last way to sign in');
      const forged = await client.request('POST', action, {
        body: new URLSearchParams({ _csrf: 'forged' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: browser.cookieHeader() },
      });
      expect(forged.status).toBe(403);
    });

    it('lets an account without a password re-authenticate by a provider sign-in within 5 minutes', async () => {
      const service = stack.apiApp.get(AuthService);
      // As a request would: in a context of its own.
      const em = stack.apiApp.get(MikroORM).em;
      const auth = {
        assertRecentAuthentication: (principal: { userId: string; sessionId: string }, password?: string) =>
          RequestContext.create(em, () => service.assertRecentAuthentication(principal, password)),
      };
      const who = account();
      const session = await apiSession(who);
      const [{ id: sessionId, user_id: userId }] = await stack.sql<{ id: string; user_id: string }>(
        'select s.id, s.user_id from sessions s join users u on u.id = s.user_id where u.email_canonical = ?',
        [who.email],
      );
      expect(session.user.id).toBe(userId);
      await expect(auth.assertRecentAuthentication({ userId, sessionId })).resolves.toMatchObject({ id: userId });
      await stack.sql("update sessions set signed_in_at = now() - interval '6 minutes' where id = ?", [sessionId]);
      await expect(auth.assertRecentAuthentication({ userId, sessionId })).rejects.toBeInstanceOf(ReauthenticationRequiredError);

      // An account with a password gives the password, however recent its sign-in.
      const owner = await createAccount(stack, { label: 'oidc-reauth' });
      await signIn(stack, owner.email, owner.password);
      const [{ id: ownerSession }] = await stack.sql<{ id: string }>('select id from sessions where user_id = ?', [owner.userId]);
      await expect(auth.assertRecentAuthentication({ userId: owner.userId, sessionId: ownerSession })).rejects.toBeInstanceOf(WrongCurrentPasswordError);
      await expect(auth.assertRecentAuthentication({ userId: owner.userId, sessionId: ownerSession }, owner.password)).resolves.toMatchObject({ id: owner.userId });
    });

    it('refuses a password change for an account without a password (it sets one through forgot-password)', async () => {
      const session = await apiSession(account());
      expectProblem(await stack.api.post('/auth/password/change', { currentPassword: strongPassword(), newPassword: strongPassword() }, session.accessToken), 400, 'INVALID_CREDENTIALS');
    });
  });

  describe('providers that are down', () => {
    it('answers a refused connection promptly: a page in words, and 503 to API consumers', async () => {
      const browser = new MiniBrowser();
      const page = await browser.get(`${base}/auth/oidc/down`);
      expect(page.status).toBe(503);
      expect(await page.text()).toContain('We cannot reach Down right now');
      const api = await browser.get(`${base}/api/v1/auth/oidc/down/authorize?redirect_uri=${encodeURIComponent(APP_REDIRECT)}`);
      expect({ status: api.status, type: api.headers.get('content-type'), body: await api.json() }).toMatchObject({
        status: 503,
        type: expect.stringMatching(/^application\/problem\+json/),
        body: { code: 'PROVIDER_UNAVAILABLE' },
      });
    });

    it('gives up on a provider that never answers discovery within the timeout', async () => {
      const page = await new MiniBrowser().get(`${base}/auth/oidc/hung`);
      expect(page.status).toBe(503);
      expect(await page.text()).toContain('We cannot reach Hung right now');
    });

    it('gives up on a token endpoint that hangs, and keeps serving cached metadata afterwards', async () => {
      const browser = new MiniBrowser();
      const callback = await toCallback(browser, account());
      await provider.hang(true);
      try {
        const page = await browser.get(callback.href);
        expect(page.status).toBe(503);
        expect(await page.text()).toContain('We cannot reach Corp SSO right now');
      } finally {
        await provider.hang(false);
      }
      // An API consumer's flow learns it on its redirect URI.
      await provider.next({ account: account() });
      const app = new MiniBrowser();
      const { stoppedAt } = await app.follow(
        `${base}/api/v1/auth/oidc/corp/authorize?${new URLSearchParams({ redirect_uri: APP_REDIRECT, state: 'h' })}`,
        (url) => url.startsWith(callbackPrefix()),
      );
      await provider.hang(true);
      try {
        const answer = await app.get(stoppedAt!);
        expect(answer.status).toBe(303);
        expect(answer.headers.get('location')).toBe(`${APP_REDIRECT}?error=temporarily_unavailable&state=h`);
      } finally {
        await provider.hang(false);
      }
      expect((await browserSignIn(new MiniBrowser(), account())).status).toBe(303);
    });

    it('rediscovers after an hour, and keeps the last metadata for a day while the provider does not answer', async () => {
      await browserSignIn(new MiniBrowser(), account()); // fresh metadata
      const realNow = Date.now.bind(Date);
      const later = (hours: number) => jest.spyOn(Date, 'now').mockImplementation(() => realNow() + hours * 3_600_000);
      await provider.hang(true);
      try {
        later(2);
        const stale = await new MiniBrowser().get(`${base}/auth/oidc/corp`);
        expect({ status: stale.status, to: stale.headers.get('location')?.startsWith(`${provider.issuer}/auth?`) }).toEqual({ status: 303, to: true });
        later(25);
        expect((await new MiniBrowser().get(`${base}/auth/oidc/corp`)).status).toBe(503);
      } finally {
        jest.restoreAllMocks();
        await provider.hang(false);
      }
    });
  });
});


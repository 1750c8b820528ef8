import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { startStackWithProvider, type TestOidcProvider } from '../support/oidc-provider';
import type { Stack } from '../support/stack';
import { awayFromStepEdge, totpCode } from '../support/totp';
import { uniqueEmail } from '../support/unique';

const SCREENSHOTS = join(__dirname, '..', 'artifacts', 'screenshots');

/** Sign-in through an OpenID Provider as a person does it: headless Chromium, JavaScript off. */
describe('identity-provider sign-in in a browser', () => {
  let stack: Stack;
  let provider: TestOidcProvider;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    ({ stack, provider, base } = await startStackWithProvider());
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await provider?.stop();
  });
  beforeEach(async () => {
    context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 720, height: 900 } });
    page = await context.newPage();
  });
  afterEach(() => context.close());

  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const heading = async () => (await page.textContent('h1'))?.trim();

  it('signs in with the provider button on /login, lands on /account, and keeps the last way to sign in', async () => {
    const email = uniqueEmail('chromium-oidc');
    await provider.next({ account: { sub: `sub-${randomBytes(6).toString('hex')}`, email, email_verified: true, name: 'Ada Lovelace' } });

    await page.goto(`${base}/login`);
    await shot('sign-in-with-provider');
    await page.getByRole('link', { name: 'Continue with Corp SSO' }).click();
    await page.waitForURL(`${base}/account`);
    expect(await heading()).toBe('Your account');
    const main = await page.textContent('main');
    expect(main).toContain(email);
    expect(main).toContain('Corp SSO');
    expect(main).toContain('Your account has no password');
    await shot('account-with-identity');

    await page.getByRole('button', { name: 'Remove Corp SSO' }).click();
    expect(await page.textContent('[role="alert"]')).toContain('This is the last way to sign in');
    await shot('account-identity-last-method');
  });

  const someone = (label: string) => ({ sub: `sub-${randomBytes(6).toString('hex')}`, email: uniqueEmail(label), email_verified: true });
  const userIdOf = async (email: string) => (await stack.sql<{ id: string }>('select id from users where email_canonical = ?', [email.toLowerCase()]))[0].id;

  it('deletes an account without a password from /account, after a fresh provider sign-in once the last one is over 5 minutes old', async () => {
    const who = someone('chromium-oidc-delete');
    await provider.next({ account: who });
    await page.goto(`${base}/login`);
    await page.getByRole('link', { name: 'Continue with Corp SSO' }).click();
    await page.waitForURL(`${base}/account`);
    // Signed in 6 minutes ago, as far as the server knows.
    await stack.sql("update sessions set signed_in_at = now() - interval '6 minutes' where user_id = ?", [await userIdOf(who.email)]);

    await page.goto(`${base}/account/delete`);
    expect(await page.locator('input[name="currentPassword"]').count()).toBe(0);
    expect(await page.textContent('main')).toContain('sign in again with your identity provider');
    await page.getByLabel('Type your email address to confirm').fill(who.email);
    await page.getByRole('button', { name: 'Delete my account' }).click();
    expect(await page.textContent('#currentPassword-error')).toContain('sign in again with your identity provider');
    await shot('account-delete-sign-in-again');

    await provider.next({ account: who });
    await page.getByRole('link', { name: 'Sign in again with Corp SSO' }).click();
    await page.waitForURL(`${base}/account`);
    expect(await page.locator('input[name="currentPassword"]').count()).toBe(0);
    await page.getByLabel('Type your email address to confirm').fill(who.email);
    await page.getByRole('button', { name: 'Delete my account' }).click();
    expect(await heading()).toBe('Account deleted');
    expect(await stack.sql('select id from users where email_canonical = ?', [who.email.toLowerCase()])).toEqual([]);
  });

  it('sets up MFA without a password, then asks for the code after the provider and lands on /account', async () => {
    const who = someone('chromium-oidc-mfa');
    await provider.next({ account: who });
    await page.goto(`${base}/auth/oidc/corp`);
    await page.waitForURL(`${base}/account`);
    await page.goto(`${base}/account/mfa`);
    expect(await page.locator('input[name="currentPassword"]').count()).toBe(0);
    await page.getByRole('button', { name: 'Set up two-step sign-in' }).click();
    const secret = ((await page.textContent('#totp-secret')) ?? '').replace(/\s/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    // The enabling code and the sign-in's code must fall in neighbouring steps.
    await awayFromStepEdge(8_000);
    await page.getByLabel('Code from your authenticator app').fill(totpCode(secret));
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    expect(await heading()).toBe('Your recovery codes');

    await context.clearCookies();
    await provider.next({ account: who });
    await page.goto(`${base}/login`);
    await page.getByRole('link', { name: 'Continue with Corp SSO' }).click();
    expect(await heading()).toBe('Two-step sign-in');
    await shot('provider-sign-in-second-step');
    await page.getByLabel('Code from your authenticator app').fill(totpCode(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${base}/account`);
    expect(await page.textContent('main')).toContain(who.email);
    // The session the second step opened counts as a provider sign-in (for re-authentication).
    const [latest] = await stack.sql<{ sign_in_method: string }>('select sign_in_method from sessions where user_id = ? order by created_at desc limit 1', [await userIdOf(who.email)]);
    expect(latest.sign_in_method).toBe('provider');
  });

  it('offers the provider on /register too, and explains in words when the provider vouches for no address', async () => {
    const email = uniqueEmail('chromium-unverified');
    await provider.next({ account: { sub: `sub-${randomBytes(6).toString('hex')}`, email, email_verified: false } });

    await page.goto(`${base}/register`);
    await page.getByRole('link', { name: 'Continue with Corp SSO' }).click();
    expect(await heading()).toBe('Sign-in did not work');
    expect(await page.textContent('[role="alert"]')).toContain('does not confirm that you own an email address');
    await shot('sign-in-with-provider-unverified');
    await page.goto(`${base}/account`);
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('says in words when the user declines at the provider', async () => {
    await provider.next({ deny: true });
    await page.goto(`${base}/login`);
    await page.getByRole('link', { name: 'Continue with Corp SSO' }).click();
    expect(await heading()).toBe('Sign-in did not work');
    expect(await page.textContent('[role="alert"]')).toContain('cancelled at the identity provider');
  });
});

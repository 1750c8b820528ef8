import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { TestOidcProvider } from '../support/oidc-provider';
import { freePort } from '../support/private-redis';
import { startStack, type Stack } from '../support/stack';
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
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    provider = await TestOidcProvider.start([
      { clientId: 'accounts', clientSecret: 'browser-test-client-secret', redirectUris: [`${base}/auth/oidc/corp/callback`] },
    ]);
    stack = await startStack({
      port,
      env: {
        APP_URL: base,
        OIDC_PROVIDERS: 'corp',
        OIDC_CORP_ISSUER: provider.issuer,
        OIDC_CORP_CLIENT_ID: 'accounts',
        OIDC_CORP_CLIENT_SECRET: 'browser-test-client-secret',
        OIDC_CORP_LABEL: 'Corp SSO',
      },
    });
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

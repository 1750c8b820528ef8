import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { expectHeading, launchChromium } from '../support/chromium';
import { enableMfa } from '../support/mfa';
import { createAccount } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { awayFromStepEdge, totpCode } from '../support/totp';

const SCREENSHOTS = join(__dirname, '..', 'artifacts', 'screenshots');

/**
 * Two-step sign-in as a person uses it: headless Chromium with JavaScript off, codes computed by
 * the test from the key the page shows (oathtool and otpauth agreeing), and Chromium's own log
 * watched for Content-Security-Policy violations while the inline SVG QR code is shown.
 */
describe('two-step sign-in pages in a browser', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let log: string[];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startStack();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack.close();
  });
  beforeEach(async () => {
    context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 720, height: 900 } });
    page = await context.newPage();
    log = [];
    cdp = await context.newCDPSession(page);
    cdp.on('Log.entryAdded', ({ entry }) => log.push(`${entry.source}: ${entry.text}`));
    await cdp.send('Log.enable');
  });
  afterEach(() => context.close());

  const url = (path: string) => `${stack.api.baseUrl}${path}`;
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const main = async () => (await page.textContent('main')) ?? '';
  const cspViolations = () => log.filter((line) => /Content Security Policy/i.test(line));

  async function signIn(email: string, password: string) {
    await page.goto(url('/login'));
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it("notices a CSP violation in Chromium's log (the watch below is not blind)", async () => {
    const response = await page.goto(url('/login'));
    const csp = response!.headers()['content-security-policy'];
    await page.route(url('/csp-probe'), (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', headers: { 'content-security-policy': csp }, body: '<p style="color: red">inline style</p>' }),
    );
    await page.goto(url('/csp-probe'));
    await page.waitForTimeout(200);
    expect(cspViolations().length).toBeGreaterThan(0);
  });

  it('sets up MFA from the account page (QR code within the CSP, key for manual entry), then signs in with a code and with a recovery code', async () => {
    const account = await createAccount(stack, { label: 'browser-mfa' });
    await signIn(account.email, account.password);
    expect(new URL(page.url()).pathname).toBe('/account');
    expect(await main()).toContain('Off: your password alone signs you in');
    await page.getByRole('link', { name: 'Set up two-step sign-in' }).click();
    await expectHeading(page, 'Two-step sign-in');

    await page.getByRole('button', { name: 'Set up two-step sign-in' }).click();
    expect(await page.textContent('[role="alert"]')).toContain('Please correct');
    expect(await page.textContent('#setup-currentPassword-error')).toContain('Enter your current password');
    await page.getByLabel('Current password').fill(account.password);
    const [setupPage] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/account/mfa/setup')), page.getByRole('button', { name: 'Set up two-step sign-in' }).click()]);
    await expectHeading(page, 'Set up two-step sign-in');
    expect(setupPage.headers()['content-security-policy']).toMatch(/default-src 'none'/);
    expect(setupPage.headers()['cache-control']).toBe('no-store');
    const qr = page.locator('.qr svg');
    expect(await qr.count()).toBe(1);
    const box = await qr.boundingBox();
    expect(box!.width).toBeGreaterThan(100);
    expect(await page.locator('.qr svg path').count()).toBeGreaterThan(0);
    const secret = ((await page.textContent('#totp-secret')) ?? '').replace(/\s/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await shot('mfa-setup');

    // A mistyped first code: said in words; the key is not shown again without the password.
    await page.getByLabel('Code from your authenticator app').fill('000000');
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    expect(await page.textContent('[role="alert"]')).toContain('That code is incorrect');
    expect(await page.locator('#totp-secret').count()).toBe(0);
    expect(await main()).not.toContain(secret.slice(0, 8));

    await awayFromStepEdge(8_000);
    await page.getByLabel('Code from your authenticator app').fill(totpCode(secret));
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await expectHeading(page, 'Your recovery codes');
    const recoveryCodes = (await page.locator('.recovery-codes code').allTextContents()).map((code) => code.trim());
    expect(recoveryCodes).toHaveLength(10);
    await shot('mfa-recovery-codes');
    await page.getByRole('link', { name: 'I have saved my codes' }).click();
    expect(await main()).toContain('On: signing in asks for a code');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();

    // Two steps: the password, then the code the test computes.
    await signIn(account.email, account.password);
    await expectHeading(page, 'Two-step sign-in');
    expect(new URL(page.url()).pathname).toBe('/login');
    await shot('mfa-second-step');
    await page.getByLabel('Code from your authenticator app').fill('123 45');
    await page.getByRole('button', { name: 'Verify' }).click();
    expect(await page.textContent('[role="alert"]')).toContain('That code is incorrect');
    expect(await main()).not.toMatch(/[A-Z]+_[A-Z]+/);
    await page.getByLabel('Code from your authenticator app').fill(totpCode(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    expect(new URL(page.url()).pathname).toBe('/account');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();

    // Lost device: a recovery code instead.
    await signIn(account.email, account.password);
    await page.getByLabel('Use a recovery code instead').fill(recoveryCodes[0]);
    await page.getByRole('button', { name: 'Sign in with a recovery code' }).click();
    expect(new URL(page.url()).pathname).toBe('/account');

    // New recovery codes, then turn it off, each with the password and a code.
    await page.goto(url('/account/mfa'));
    await page.locator('#recovery-currentPassword').fill(account.password);
    await page.locator('#recovery-code').fill(recoveryCodes[0]);
    await page.getByRole('button', { name: 'Make new recovery codes' }).click();
    expect(await page.textContent('#recovery-code-error')).toContain('That code is incorrect');
    await page.locator('#recovery-currentPassword').fill(account.password);
    await page.locator('#recovery-code').fill(recoveryCodes[1]);
    await page.getByRole('button', { name: 'Make new recovery codes' }).click();
    await expectHeading(page, 'Your recovery codes');
    const renewed = (await page.locator('.recovery-codes code').allTextContents()).map((code) => code.trim());
    expect(renewed).toHaveLength(10);

    await page.goto(url('/account/mfa'));
    await page.getByLabel('Current password').last().fill(account.password);
    await page.locator('#disable-code').fill(renewed[0]);
    await page.getByRole('button', { name: 'Turn off two-step sign-in' }).click();
    expect(await page.textContent('[role="status"]')).toContain('Two-step sign-in is off.');
    expect((await stack.api.post('/auth/login', { email: account.email, password: account.password })).status).toBe(200);

    expect(cspViolations()).toEqual([]);
  }, 120_000);

  it('says in words that setting up waits for a confirmed address, and refuses a setup posted meanwhile', async () => {
    const account = await createAccount(stack, { label: 'browser-mfa-unconfirmed', confirmed: false });
    await signIn(account.email, account.password);
    await page.goto(url('/account/mfa'));
    expect(await main()).toContain('can be turned on once your email address is confirmed');
    expect(await page.getByRole('button', { name: 'Set up two-step sign-in' }).count()).toBe(0);

    // The form shown while confirmed, posted after the address went unconfirmed again.
    await stack.sql('update users set email_confirmed_at = now() where id = ?', [account.userId]);
    await page.goto(url('/account/mfa'));
    await stack.sql('update users set email_confirmed_at = null where id = ?', [account.userId]);
    await page.getByLabel('Current password').fill(account.password);
    const [refused] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/account/mfa/setup')), page.getByRole('button', { name: 'Set up two-step sign-in' }).click()]);
    expect(refused.status()).toBe(403);
    expect(await main()).toContain('can be turned on once your email address is confirmed');
    expect(await stack.sql('select 1 from mfa_totp where user_id = ?', [account.userId])).toEqual([]);
  });

  it('sends an expired or used second step back to sign-in, in words', async () => {
    const account = await createAccount(stack, { label: 'browser-mfa-expired' });
    const { secret } = await enableMfa(stack, account);
    await signIn(account.email, account.password);
    await expectHeading(page, 'Two-step sign-in');
    await stack.sql(`update mfa_challenges set expires_at = now() - interval '1 second' where user_id = ?`, [account.userId]);
    await page.getByLabel('Code from your authenticator app').fill(totpCode(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectHeading(page, 'Sign in');
    expect(await page.textContent('[role="alert"]')).toContain('This sign-in has expired or was already used');
  });
});

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { linkIn, startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

const SCREENSHOTS = join(__dirname, '..', 'artifacts', 'screenshots');

/** The pages as a person uses them: headless Chromium with JavaScript off, real email. */
describe('web pages in a browser', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'true' } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack.close();
  });
  beforeEach(async () => {
    context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 720, height: 760 } });
    page = await context.newPage();
  });
  afterEach(() => context.close());

  const url = (path: string) => `${stack.api.baseUrl}${path}`;
  /** Emailed links point at APP_URL; the browser follows their path on the test server. */
  const follow = (link: URL) => page.goto(url(`${link.pathname}${link.search}`));
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  async function signIn(email: string, password: string) {
    await page.goto(url('/login'));
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('registers, confirms by email, signs in, changes the password and signs out', async () => {
    const email = uniqueEmail('browser');
    const password = strongPassword();

    await page.goto(url('/register'));
    await shot('register');
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Name (optional)').fill('Ada Lovelace');
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByLabel('Password, again').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expectHeading(page, 'Check your inbox');
    await shot('register-done');

    const mail = await stack.sink.waitFor(to(email));
    await follow(linkIn(mail).url);
    await shot('confirm-email');
    await page.getByRole('button', { name: 'Confirm my email' }).click();
    await expectHeading(page, 'Email confirmed');
    await shot('confirm-email-done');
    await page.getByRole('link', { name: 'Sign in' }).click();

    await shot('sign-in');
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(new URL(page.url()).pathname).toBe('/account');
    await expectHeading(page, 'Your account');
    expect(await page.textContent('main')).toContain(email);
    expect(await page.textContent('main')).toContain('(this browser)');
    await shot('account');

    const newPassword = strongPassword();
    await page.getByLabel('Current password').fill(password);
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('New password, again').fill(newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    expect(await page.textContent('main')).toContain('Your password was changed');

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.goto(url('/account'));
    expect(new URL(page.url()).pathname).toBe('/login');

    expect((await stack.api.post('/auth/login', { email, password })).status).toBe(401);
    expect((await stack.api.post('/auth/login', { email, password: newPassword })).status).toBe(200);
  });

  it('shows errors next to the form in words, never as codes', async () => {
    const email = uniqueEmail('mistakes');
    await page.goto(url('/register'));
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByLabel('Password, again').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    const text = await page.textContent('main');
    expect(text).toContain('at least 12 characters');
    expect(text).not.toMatch(/[A-Z]+_[A-Z]+/);
    expect(await page.getAttribute('#password', 'aria-invalid')).toBe('true');
    await shot('register-error');

    await signIn(uniqueEmail('nobody'), strongPassword());
    expect(await page.textContent('[role="alert"]')).toContain('The email or password is incorrect');
    await shot('sign-in-error');
  });

  it('recovers a forgotten password and lands on sign-in with a notice', async () => {
    const email = uniqueEmail('forgot');
    const password = strongPassword();
    await stack.api.post('/auth/register', { email, password });
    const confirmMail = await stack.sink.waitFor(to(email));
    await stack.api.post('/auth/email/confirm', { token: linkIn(confirmMail).token });

    await page.goto(url('/forgot-password'));
    await shot('forgot-password');
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await expectHeading(page, 'Check your inbox');

    const mail = await stack.sink.waitFor((m) => to(email)(m) && /reset/i.test(m.subject));
    await follow(linkIn(mail).url);
    await shot('reset-password');
    const newPassword = strongPassword();
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('New password, again').fill(newPassword);
    await page.getByRole('button', { name: 'Set new password' }).click();
    expect(page.url()).toBe(url('/login?reset=1'));
    expect(await page.textContent('main')).toContain('Your password was updated');
    await shot('sign-in-after-reset');

    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password').fill(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(new URL(page.url()).pathname).toBe('/account');
  });

  it('shows the invalid-link page when a used link is submitted again, and when it is opened again', async () => {
    const email = uniqueEmail('twice');
    await stack.api.post('/auth/register', { email, password: strongPassword() });
    const link = linkIn(await stack.sink.waitFor(to(email))).url;

    // The link opened in a second tab before it is used there.
    const earlier = await context.newPage();
    await earlier.goto(url(`${link.pathname}${link.search}`));
    await follow(link);
    await page.getByRole('button', { name: 'Confirm my email' }).click();
    await expectHeading(page, 'Email confirmed');

    // Submitted again from the page opened before the link was used...
    await earlier.getByRole('button', { name: 'Confirm my email' }).click();
    await expectHeading(earlier, 'This link is invalid or has expired');
    await earlier.screenshot({ path: join(SCREENSHOTS, 'link-invalid.png'), fullPage: true });

    // ...and opened again: the page looks at the link (without spending anything) and says so at once.
    await follow(link);
    await expectHeading(page, 'This link is invalid or has expired');
  });

  it('refuses a form POST without its CSRF token', async () => {
    const email = uniqueEmail('csrf');
    const password = strongPassword();
    await stack.api.post('/auth/register', { email, password });
    const forged = await stack.api.request('POST', '/login', {
      body: new URLSearchParams({ email, password }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('This form has expired');
    expect(forged.headers.get('set-cookie') ?? '').not.toContain('accounts_session');

    const wrong = await stack.api.form('/login', { email, password, _csrf: 'forged-token' });
    expect(wrong.status).toBe(403);
  });

  it('ends the browser session when the user signs out everywhere through the API', async () => {
    const email = uniqueEmail('everywhere');
    const password = strongPassword();
    await stack.api.post('/auth/register', { email, password });
    await stack.api.post('/auth/email/confirm', { token: linkIn(await stack.sink.waitFor(to(email))).token });

    await signIn(email, password);
    expect(new URL(page.url()).pathname).toBe('/account');
    const cookie = (await context.cookies()).find((c) => c.name === 'accounts_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });

    const api = await stack.api.post('/auth/login', { email, password });
    expect((await stack.api.delete('/auth/sessions', api.body.accessToken)).status).toBe(204);
    await page.goto(url('/account'));
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('stays signed in while the session cookie rotates; the old cookie, replayed past its grace, ends the session', async () => {
    const email = uniqueEmail('rotate');
    const password = strongPassword();
    await stack.api.post('/auth/register', { email, password });
    await stack.api.post('/auth/email/confirm', { token: linkIn(await stack.sink.waitFor(to(email))).token });
    const byHash = "token_hash = encode(sha256(convert_to(?, 'UTF8')), 'hex')";
    const sessionCookie = async () => (await context.cookies()).find((c) => c.name === 'accounts_session')!;

    await signIn(email, password);
    const first = await sessionCookie();
    // The credential is due for rotation: the next page replaces it, and the browser keeps the new one.
    await stack.sql(`update browser_credentials set created_at = now() - interval '1 hour' where ${byHash}`, [first.value]);
    await page.goto(url('/account'));
    expect(new URL(page.url()).pathname).toBe('/account');
    const second = await sessionCookie();
    expect(second.value).not.toBe(first.value);
    expect(second).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    await page.goto(url('/account'));
    expect(new URL(page.url()).pathname).toBe('/account');

    // A copy of the old cookie, used after its grace, ends the session for everyone holding it.
    await stack.sql(`update browser_credentials set replaced_at = now() - interval '1 hour' where ${byHash}`, [first.value]);
    const thief = await browser.newContext({ javaScriptEnabled: false });
    try {
      await thief.addCookies([{ name: 'accounts_session', value: first.value, url: url('/') }]);
      const thiefPage = await thief.newPage();
      await thiefPage.goto(url('/account'));
      expect(new URL(thiefPage.url()).pathname).toBe('/login');
    } finally {
      await thief.close();
    }
    await page.goto(url('/account'));
    expect(new URL(page.url()).pathname).toBe('/login');
  });
});

/** With confirmation off, an account works before its address is confirmed; /account says so and offers a link. */
describe('the account page of an unconfirmed address', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    stack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'false' } });
    browser = await launchChromium();
    context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 720, height: 760 } });
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await stack.close();
  });

  const url = (path: string) => `${stack.api.baseUrl}${path}`;

  it('shows that the address is unconfirmed, sends a new link on request, and stays signed in after confirming', async () => {
    const email = uniqueEmail('unconfirmed');
    const password = strongPassword();
    await page.goto(url('/register'));
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByLabel('Password, again').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(new URL(page.url()).pathname).toBe('/account');
    expect(await page.textContent('main')).toContain('Your email address is not confirmed yet');

    await page.getByRole('button', { name: 'Send a new confirmation link' }).click();
    expect(new URL(page.url()).pathname).toBe('/account');
    expect(await page.textContent('main')).toContain(`a new link is on its way to ${email}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'account-unconfirmed.png'), fullPage: true });

    const mail = await stack.sink.waitFor((m) => to(email)(m) && m.text.includes('/confirm-email?token='));
    const link = linkIn(mail).url;
    await page.goto(url(`${link.pathname}${link.search}`));
    // A resent link carries no password, whoever asked for it: the page asks, and the current one is kept.
    await page.getByLabel('Choose a password').fill(password);
    await page.getByLabel('Password, again').fill(password);
    await page.getByRole('button', { name: 'Confirm my email' }).click();
    await expectHeading(page, 'Email confirmed');

    // The password is the account's own, so confirming ends no session: this browser is still in.
    await page.goto(url('/account'));
    expect(new URL(page.url()).pathname).toBe('/account');
    expect(await page.textContent('main')).not.toContain('not confirmed');
  });
});

async function expectHeading(page: Page, text: string) {
  expect((await page.textContent('h1'))?.trim()).toBe(text);
}

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { changeLinkIn, SUBJECTS } from '../support/email-change';
import { createAccount, nextMail } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

const SCREENSHOTS = join(__dirname, '..', 'artifacts', 'screenshots');

/** Email change with undo as a person does it: Chromium with JavaScript off, real email (SPEC §10). */
describe('email change in a browser', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

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
  });
  afterEach(() => context.close());

  const url = (path: string) => `${stack.api.baseUrl}${path}`;
  /** Emailed links point at APP_URL; the browser follows their path on the test server. */
  const follow = (link: URL) => page.goto(url(`${link.pathname}${link.search}`));
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const heading = async () => (await page.textContent('h1'))?.trim();

  async function signIn(email: string, password: string) {
    await page.goto(url('/login'));
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(new URL(page.url()).pathname).toBe('/account');
  }

  async function askForChange(newEmail: string, password: string) {
    await page.getByLabel('New email address').fill(newEmail);
    await page.getByLabel('Your password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Change email' }).click();
  }

  it('changes the address from the account page, undoes it from the old inbox, and resets the password', async () => {
    const account = await createAccount(stack, { label: 'browser-chg' });
    const newEmail = uniqueEmail('browser-chg-new');
    await signIn(account.email, account.password);

    const requested = nextMail(stack.sink, newEmail, SUBJECTS.requested, 30_000);
    await askForChange(newEmail, account.password);
    expect(await page.textContent('[role="status"]')).toContain(`Check the inbox of ${newEmail}`);
    await shot('email-change-requested');

    // Opening the link shows a button and changes nothing.
    await follow(changeLinkIn(await requested).url);
    expect(await heading()).toBe('Confirm your new email address');
    await shot('confirm-email-change');
    const [before] = await stack.sql<{ email: string }>('select email from users where id = ?', [account.userId]);
    expect(before.email).toBe(account.email);

    const changed = nextMail(stack.sink, account.email, SUBJECTS.changed, 30_000);
    await page.getByRole('button', { name: 'Confirm my new address' }).click();
    expect(await heading()).toBe('Email address changed');
    expect(await page.textContent('main')).toContain(newEmail);
    // Still signed in, under the new address.
    await page.getByRole('link', { name: 'Go to your account' }).click();
    expect(await page.textContent('main')).toContain(newEmail);

    // The old inbox undoes it; this browser's session ends with every other.
    await follow(changeLinkIn(await changed).url);
    expect(await heading()).toBe('Undo the email change');
    await shot('undo-email-change');
    const resetMail = nextMail(stack.sink, account.email, SUBJECTS.reset, 30_000);
    await page.getByRole('button', { name: 'Undo the change' }).click();
    expect(await heading()).toBe('The change is undone');
    await shot('undo-email-change-done');
    await page.goto(url('/account'));
    expect(new URL(page.url()).pathname).toBe('/login');

    // The mailed reset link gives the account to the reader of the old inbox.
    const newPassword = strongPassword();
    await follow(changeLinkIn(await resetMail).url);
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('New password, again').fill(newPassword);
    await page.getByRole('button', { name: /password/i }).click();
    expect(new URL(page.url()).pathname).toBe('/login');
    await signIn(account.email, newPassword);
    expect(await page.textContent('main')).toContain(account.email);
  }, 90_000);

  it('answers a taken address like a free one, and shows mistakes next to the fields in words', async () => {
    const account = await createAccount(stack, { label: 'browser-chg-err' });
    const owner = await createAccount(stack, { label: 'browser-chg-owner' });
    await signIn(account.email, account.password);

    await askForChange(owner.email, account.password);
    const taken = (await page.textContent('[role="status"]'))?.replace(owner.email, '<address>');
    const free = uniqueEmail('browser-chg-free');
    await askForChange(free, account.password);
    expect((await page.textContent('[role="status"]'))?.replace(free, '<address>')).toBe(taken);

    await askForChange(uniqueEmail('browser-chg-wrong'), strongPassword());
    expect(await page.textContent('#emailChangeCurrentPassword-error')).toBe('The current password is incorrect');
    expect(await page.getAttribute('#emailChangeCurrentPassword', 'aria-invalid')).toBe('true');
    await askForChange('not an address', account.password);
    expect(await page.textContent('#newEmail-error')).toContain('Enter an email address');
    await askForChange(account.email.toUpperCase(), account.password);
    expect(await page.textContent('#newEmail-error')).toBe('This is already the address of your account');
    expect(await page.textContent('main')).not.toMatch(/[A-Z]+_[A-Z]+/);
    await shot('email-change-error');
  }, 60_000);

  it('shows the invalid-link page for a used, unknown or malformed link', async () => {
    await page.goto(url('/confirm-email-change?token=unknown-token-unknown-token'));
    expect(await heading()).toBe('This link is invalid or has expired');
    expect(await page.textContent('main')).toContain('ask for the change again');
    await page.goto(url('/undo-email-change?token=%3Cscript%3E'));
    expect(await heading()).toBe('This link is invalid or has expired');
    expect(await page.getByRole('link', { name: 'Reset my password' }).count()).toBe(1);
  });
});

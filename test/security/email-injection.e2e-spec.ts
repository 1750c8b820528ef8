import { randomBytes } from 'node:crypto';
import { rawRequest } from '../support/raw-http';
import { expectProblem, expectSingleRecipientMail, nextMail } from '../support/security';
import type { ReceivedMail } from '../support/smtp-sink';
import { linkIn, startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/**
 * What reaches a mailbox (ASVS 5.0 V1 injection, V6.4 recovery links; OWASP Forgot Password cheat
 * sheet): no header or recipient smuggled in through an address or a name, user data escaped in the
 * HTML part, and links built from APP_URL only, whatever Host or X-Forwarded-* a request claims.
 * TRUST_PROXY=1 here, so even a trusted proxy's headers cannot move the links.
 */
describe('security: email injection and link poisoning', () => {
  let stack: Stack;
  // Unique per run: rows and mail from earlier runs can never satisfy or spoil an assertion.
  const attackerDomain = `evil-${randomBytes(4).toString('hex')}.test`;
  const attacker = `attacker@${attackerDomain}`;

  beforeAll(async () => {
    stack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'true', TRUST_PROXY: '1' } });
  });
  afterAll(() => stack.close());

  async function registerConfirmedVictim(label: string) {
    const email = uniqueEmail(label);
    const password = strongPassword();
    const mail = nextMail(stack.sink, email, /confirm/i);
    expect((await stack.api.post('/auth/register', { email, password })).status).toBe(202);
    expect((await stack.api.post('/auth/email/confirm', { token: linkIn(await mail).token })).status).toBe(200);
    return { email, password };
  }

  /** Waits until the worker has sent everything queued so far, by sending one more mail and seeing it arrive. */
  async function drainMail() {
    const canary = uniqueEmail('canary');
    const mail = nextMail(stack.sink, canary, /confirm/i);
    expect((await stack.api.post('/auth/register', { email: canary, password: strongPassword() })).status).toBe(202);
    await mail;
  }

  async function expectNothingForAttacker() {
    // No event is addressed to anything mentioning the attacker (a name may mention it: that is body text).
    const events = await stack.sql<{ n: number }>(`select count(*)::int as n from outbox where payload->>'email' ilike ?`, [`%${attackerDomain}%`]);
    expect(events[0].n).toBe(0);
    await drainMail();
    expectSingleRecipientMail(stack.sink.messages, [attackerDomain]);
  }

  it('refuses CR/LF (and other address smuggling) in an email address with 400 on every endpoint, and no mail reaches another recipient', async () => {
    const { email: victim, password } = await registerConfirmedVictim('victim');
    const [local, domain] = victim.split('@');
    const hostile = [
      `${victim}\r\nBcc: ${attacker}`,
      `${victim}\nBcc: ${attacker}`,
      `${victim}\rBcc: ${attacker}`,
      `${victim}\r\n\tBcc: ${attacker}`,
      `${victim}\r\nCc: ${attacker}\r\n\r\nbody`,
      `${victim}\u0000${attacker}`,
      `${victim}\u0085Bcc: ${attacker}`,
      `${victim}\u2028Bcc: ${attacker}`,
      `${victim}%0d%0aBcc:${attacker}`,
      `${victim}, ${attacker}`,
      `${victim},${attacker}`,
      `${victim};${attacker}`,
      `Victim <${victim}>, <${attacker}>`,
      `<${attacker}>`,
      // Quoted local parts are legal RFC 5321 syntax, and may carry CR/LF and commas.
      `"${local}\r\nBcc: ${attacker}"@${domain}`,
      `"${attacker}\r\n"@${domain}`,
      `"${attacker},${local}"@${domain}`,
    ];
    for (const email of hostile) {
      const attempts = {
        register: await stack.api.post('/auth/register', { email, password: strongPassword() }),
        login: await stack.api.post('/auth/login', { email, password }),
        forgot: await stack.api.post('/auth/password/forgot', { email }),
        resend: await stack.api.post('/auth/email/resend', { email }),
      };
      for (const [endpoint, response] of Object.entries(attempts)) {
        expect({ endpoint, email, status: response.status }).toEqual({ endpoint, email, status: 400 });
        expectProblem(response, 400, 'VALIDATION_FAILED');
        expect(response.body.errors.map((e: { field: string }) => e.field)).toContain('email');
      }
      // The page forms answer their usual page, and must not send anything either.
      expect((await stack.api.form('/forgot-password', { email })).status).toBeLessThan(500);
      expect((await stack.api.form('/confirm-email/resend', { email })).status).toBeLessThan(500);
    }
    await expectNothingForAttacker();
    expect(stack.sink.messages.filter(to(victim)).filter((m) => /reset/i.test(m.subject))).toEqual([]);
  });

  it('refuses CR/LF and other control or separator characters in a name with 400, and no mail carries them into a header', async () => {
    const hostileNames = [
      `Eve\r\nBcc: ${attacker}`,
      `Eve\nBcc: ${attacker}`,
      `Eve\rBcc: ${attacker}`,
      `Eve\u0000`,
      `Eve\tBcc: ${attacker}`,
      `Eve\u0085Bcc: ${attacker}`,
      `Eve\u2028Bcc: ${attacker}`,
      `Eve\u2029Bcc: ${attacker}`,
      `Eve\u001b[31m`,
    ];
    for (const name of hostileNames) {
      const email = uniqueEmail('name-inject');
      const response = await stack.api.post('/auth/register', { email, password: strongPassword(), name });
      expect({ name, status: response.status }).toEqual({ name, status: 400 });
      expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain('name');
      expect(await stack.sql('select 1 from users where email_canonical = ?', [email])).toHaveLength(0);
    }
    // A MIME encoded-word is printable, so allowed; it must stay body text and never become a header.
    const encoded = uniqueEmail('name-encoded');
    const mail = nextMail(stack.sink, encoded, /confirm/i);
    const encodedName = `=?UTF-8?Q?Eve=0D=0ABcc:_${attacker}?=`;
    expect((await stack.api.post('/auth/register', { email: encoded, password: strongPassword(), name: encodedName })).status).toBe(202);
    const received = await mail;
    expect(received.toAll).toEqual([encoded]);
    expect(received.headers.get('bcc')).toBeUndefined();
    await expectNothingForAttacker();
  });

  it('keeps names out of mail to unconfirmed addresses, and escapes them once confirmed', async () => {
    const email = uniqueEmail('html-inject');
    const name = `<script>alert(1)</script><img src=x onerror=alert(2)>"'{{appUrl}}`;
    const mail = nextMail(stack.sink, email, /confirm/i);
    expect((await stack.api.post('/auth/register', { email, password: strongPassword(), name })).status).toBe(202);
    const received = await mail;
    // Anyone can register someone else's address: the stranger's inbox gets none of their text.
    expect(received.html).not.toContain('alert');
    expect(received.text).not.toContain('alert');
    expect(received.subject).not.toContain('<');

    const confirmed = await stack.api.post('/auth/email/confirm', { token: linkIn(received).token });
    expect(confirmed.body.user.name).toBe(name);
    const reset = nextMail(stack.sink, email, /reset/i);
    await stack.api.post('/auth/password/forgot', { email });
    const resetMail = await reset;
    expect(resetMail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src&#x3D;x onerror&#x3D;alert(2)&gt;');
    expect(resetMail.html).not.toMatch(/<script|<img/i);
    expect(resetMail.html).not.toMatch(/\bon\w+\s*=\s*["']?alert/i);
    // The name is data: its template-looking part is printed, not evaluated.
    expect(resetMail.text).toContain('{{appUrl}}');
  });

  it('pages never reflect submitted markup', async () => {
    const payload = `"><script>alert(1)</script><img src=x onerror=alert(1)>`;
    const page = await stack.api.form('/reset-password', { token: payload, password: 'a', passwordConfirm: 'b' });
    expect(page.status).toBe(400);
    expect(page.body).not.toContain('<script>alert(1)');
    expect(page.body).not.toMatch(/<img[^>]*onerror/i);
    for (const path of [`/reset-password?token=${encodeURIComponent(payload)}`, `/confirm-email?token=${encodeURIComponent(payload)}`, `/login?reset=${encodeURIComponent(payload)}`]) {
      const response = await stack.api.request('GET', path);
      expect(response.status).toBeLessThan(500);
      expect(String(response.body)).not.toContain('<script>alert(1)');
    }
  });

  function expectLinksOnAppUrl(mail: ReceivedMail, path: string) {
    const { url } = linkIn(mail);
    expect(url.origin).toBe('http://accounts.test');
    expect(url.pathname).toBe(path);
    const hrefs = [...mail.html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href.startsWith('http://accounts.test')).toBe(true);
    const textUrls = mail.text.match(/https?:\/\/[^\s]+/g) ?? [];
    for (const link of textUrls) expect(link.startsWith('http://accounts.test')).toBe(true);
    expect(mail.raw.toLowerCase()).not.toContain('evil.test');
  }

  const poisonings: Array<Record<string, string>> = [
    { host: 'evil.test' },
    { 'x-forwarded-host': 'evil.test' },
    { 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' },
    { forwarded: 'for=203.0.113.9;host=evil.test;proto=https' },
    { 'x-original-host': 'evil.test', 'x-host': 'evil.test', 'x-forwarded-server': 'evil.test' },
    { host: 'accounts.test@evil.test' },
  ];

  it('keeps reset links on APP_URL whatever Host or X-Forwarded-Host the request carries', async () => {
    const { email } = await registerConfirmedVictim('host-reset');
    for (const headers of poisonings) {
      const mail = nextMail(stack.sink, email, /reset/i);
      const response = await rawRequest(stack.api.baseUrl, 'POST', '/api/v1/auth/password/forgot', {
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ email }),
      });
      expect({ headers, status: response.status }).toEqual({ headers, status: 202 });
      expectLinksOnAppUrl(await mail, '/reset-password');
    }
    // The page form too.
    const mail = nextMail(stack.sink, email, /reset/i);
    const csrf = await stack.api.csrfToken();
    await rawRequest(stack.api.baseUrl, 'POST', '/forgot-password', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'evil.test', 'x-forwarded-host': 'evil.test', cookie: stack.api.cookieHeader() },
      body: new URLSearchParams({ email, _csrf: csrf }).toString(),
    });
    expectLinksOnAppUrl(await mail, '/reset-password');
  });

  it('keeps confirmation links on APP_URL whatever Host or X-Forwarded-Host register and resend carry', async () => {
    const email = uniqueEmail('host-confirm');
    const all = Object.assign({}, ...poisonings.slice(1), { host: 'evil.test' });
    const first = nextMail(stack.sink, email, /confirm/i);
    const registered = await rawRequest(stack.api.baseUrl, 'POST', '/api/v1/auth/register', {
      headers: { 'content-type': 'application/json', ...all },
      body: JSON.stringify({ email, password: strongPassword() }),
    });
    expect(registered.status).toBe(202);
    expectLinksOnAppUrl(await first, '/confirm-email');

    const second = nextMail(stack.sink, email, /confirm/i);
    const resent = await rawRequest(stack.api.baseUrl, 'POST', '/api/v1/auth/email/resend', {
      headers: { 'content-type': 'application/json', ...all },
      body: JSON.stringify({ email }),
    });
    expect(resent.status).toBe(202);
    expectLinksOnAppUrl(await second, '/confirm-email');
  });
});

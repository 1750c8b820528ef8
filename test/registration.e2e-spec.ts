import { expectDocumentedResponses } from './support/openapi-contract';
import { hashSecretToken } from '@accounts/tokens';
import { linkIn, startStack, to, type Stack } from './support/stack';
import { strongPassword, uniqueEmail } from './support/unique';

describe('registration with email confirmation off (default)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  it('registers, signs in at once, and sends a welcome email', async () => {
    const email = uniqueEmail('welcome');
    const password = strongPassword();

    const registered = await stack.api.post('/auth/register', { email, password, name: 'Ada' });
    expect(registered.status).toBe(201);
    expect(registered.body.user).toEqual({
      id: expect.any(String),
      email,
      name: 'Ada',
      emailConfirmed: false,
      mfaEnabled: false,
      createdAt: expect.any(String),
    });

    const login = await stack.api.post('/auth/login', { email, password });
    expect(login.status).toBe(200);
    expect(login.headers.get('cache-control')).toBe('no-store');
    expect(login.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { email } });

    const me = await stack.api.get('/users/me', login.body.accessToken);
    expect(me.body.user.id).toBe(registered.body.user.id);

    const mail = await stack.sink.waitFor(to(email));
    expect(mail.subject).toMatch(/welcome/i);
    // Until the address is confirmed, mail carries no text chosen by whoever registered it.
    expect(mail.text).not.toContain('Ada');
    expect(mail.toAll).toEqual([email]);
  });

  it('answers 409 EMAIL_TAKEN for an address in any case or spacing', async () => {
    const email = uniqueEmail('taken');
    await stack.api.post('/auth/register', { email, password: strongPassword() });
    const again = await stack.api.post('/auth/register', { email: `  ${email.toUpperCase()} `, password: strongPassword() });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(again.body).toMatchObject({ status: 409, code: 'EMAIL_TAKEN' });
  });

  it('signs in with the address typed differently', async () => {
    const email = uniqueEmail('case');
    const password = strongPassword();
    await stack.api.post('/auth/register', { email, password });
    const login = await stack.api.post('/auth/login', { email: ` ${email.toUpperCase()}`, password });
    expect(login.status).toBe(200);
  });

  it('refuses weak passwords with PASSWORD_TOO_WEAK', async () => {
    const email = uniqueEmail('weak');
    for (const password of ['short', 'Unbelievable', `${email.split('@')[0]}-and-more`, 'x'.repeat(129)]) {
      const response = await stack.api.post('/auth/register', { email, password });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('PASSWORD_TOO_WEAK');
      expect(JSON.stringify(response.body)).not.toContain(password);
    }
  });

  it('refuses guessable passwords, the owner\'s own name among them, and says why in words (API and page)', async () => {
    const cases = [
      ...['1qaz2wsx3edc', '123qweasdzxc', 'password1234', 'passwordpassword'].map((password) => ({ password, name: undefined })),
      { password: 'Quillfeather 99', name: 'Jo Quillfeather' },
    ];
    for (const { password, name } of cases) {
      const email = uniqueEmail('guessable');
      const response = await stack.api.post('/auth/register', { email, password, ...(name ? { name } : {}) });
      expect({ password, status: response.status, code: response.body.code }).toEqual({ password, status: 400, code: 'PASSWORD_TOO_WEAK' });
      expect(response.body.detail).toMatch(/^This password is too easy to guess\. [A-Z][a-z]+ /);
      expect(JSON.stringify(response.body)).not.toContain(password);

      const page = await stack.api.form('/register', { email, password, passwordConfirm: password, ...(name ? { name } : {}) });
      expect({ password, status: page.status }).toEqual({ password, status: 400 });
      expect(page.body).toContain('This password is too easy to guess.');
    }
    // The name is what gives the last one away: someone else may use it.
    const stranger = await stack.api.post('/auth/register', { email: uniqueEmail('stranger'), password: 'Quillfeather 99' });
    expect(stranger.status).toBe(201);
  });

  it('refuses invalid fields with VALIDATION_FAILED naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ email: 'not-an-email', password: strongPassword() }, 'email'],
      [{ email: 'a\r\nBcc: x@example.com@example.com', password: strongPassword() }, 'email'],
      [{ email: uniqueEmail(), password: 12345678901234 }, 'password'],
      [{ email: uniqueEmail(), password: strongPassword(), name: 'bad\nname' }, 'name'],
      [{ email: uniqueEmail(), password: strongPassword(), role: 'admin' }, 'role'],
    ];
    for (const [body, field] of cases) {
      const response = await stack.api.post('/auth/register', body);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });

  it('answers wrong passwords and unknown addresses alike', async () => {
    const email = uniqueEmail('known');
    await stack.api.post('/auth/register', { email, password: strongPassword() });
    const wrong = await stack.api.post('/auth/login', { email, password: strongPassword() });
    const unknown = await stack.api.post('/auth/login', { email: uniqueEmail('unknown'), password: strongPassword() });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
  });

  it('creates one account when the same address registers twice at once', async () => {
    const email = uniqueEmail('race');
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => stack.api.post('/auth/register', { email, password: strongPassword() })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409]);
    const rows = await stack.sql('select count(*)::int as n from users where email_canonical = ?', [email]);
    expect(rows[0].n).toBe(1);
  });
});

describe('registration with email confirmation on', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'true' } });
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  it('requires the emailed link before sign-in, and the link works once', async () => {
    const email = uniqueEmail('confirm');
    const password = strongPassword();

    const registered = await stack.api.post('/auth/register', { email, password, name: 'Grace' });
    expect(registered.status).toBe(202);
    expect(registered.body).toEqual({ status: 'confirmation_required' });

    const early = await stack.api.post('/auth/login', { email, password });
    expect(early.status).toBe(403);
    expect(early.body.code).toBe('EMAIL_NOT_CONFIRMED');
    const wrong = await stack.api.post('/auth/login', { email, password: strongPassword() });
    expect(wrong.status).toBe(401);

    const mail = await stack.sink.waitFor(to(email));
    expect(mail.subject).toMatch(/confirm/i);
    const { url, token } = linkIn(mail);
    expect(url.origin).toBe('http://accounts.test');
    expect(url.pathname).toBe('/confirm-email');
    expect(mail.html).toContain(`/confirm-email?token=${token}`);

    // Opening the link (what a mail scanner does) shows a button and spends nothing.
    for (let i = 0; i < 2; i++) {
      const page = await stack.api.request('GET', `${url.pathname}${url.search}`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('Confirm my email');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    }
    expect((await stack.api.post('/auth/login', { email, password })).status).toBe(403);

    const confirmed = await stack.api.post('/auth/email/confirm', { token });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.user).toMatchObject({ email, emailConfirmed: true });

    expect((await stack.api.post('/auth/login', { email, password })).status).toBe(200);

    const again = await stack.api.post('/auth/email/confirm', { token });
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('INVALID_TOKEN');
  });

  it('keeps only hashes and sealed tokens at rest', async () => {
    const email = uniqueEmail('at-rest');
    await stack.api.post('/auth/register', { email, password: strongPassword() });
    const { token } = linkIn(await stack.sink.waitFor(to(email)));

    const tokens = await stack.sql<{ token_hash: string }>(
      `select t.token_hash from one_time_tokens t join users u on u.id = t.user_id where u.email_canonical = ?`,
      [email],
    );
    expect(tokens.map((t) => t.token_hash)).toEqual([hashSecretToken(token)]);
    const events = await stack.sql<{ payload: string }>(`select payload::text from outbox where payload->>'email' = ?`, [email]);
    expect(events).toHaveLength(1);
    expect(events[0].payload).not.toContain(token);
    expect(events[0].payload).toContain('"sealed"');
  });

  it('confirms through the page form, and a second use shows the invalid-link page', async () => {
    const email = uniqueEmail('page');
    const password = strongPassword();
    await stack.api.post('/auth/register', { email, password });
    const { token } = linkIn(await stack.sink.waitFor(to(email)));

    const done = await stack.api.form('/confirm-email', { token });
    expect(done.status).toBe(200);
    expect(done.body).toContain('Email confirmed');
    expect((await stack.api.post('/auth/login', { email, password })).status).toBe(200);

    const replay = await stack.api.form('/confirm-email', { token });
    expect(replay.status).toBe(400);
    expect(replay.body).toContain('This link is invalid or has expired');
  });

  it('answers a taken address exactly like a new one and mails its owner instead', async () => {
    const email = uniqueEmail('owner');
    const password = strongPassword();
    await stack.api.post('/auth/register', { email, password, name: 'Owner' });
    const first = linkIn(await stack.sink.waitFor(to(email)));
    await stack.api.post('/auth/email/confirm', { token: first.token });

    const fresh = await stack.api.post('/auth/register', { email: uniqueEmail('fresh'), password: strongPassword() });
    const taken = await stack.api.post('/auth/register', { email, password: strongPassword(), name: 'Mallory' });
    expect(taken.status).toBe(fresh.status);
    expect(taken.body).toEqual(fresh.body);

    const notice = await stack.sink.waitFor((m) => to(email)(m) && /tried to register|already/i.test(m.subject + m.text));
    expect(notice.text).not.toMatch(/confirm-email\?token=/);
    // The owner's password is untouched.
    expect((await stack.api.post('/auth/login', { email, password })).status).toBe(200);
  });

  it('sends a fresh link when an unconfirmed address registers again; the old link is superseded, the new one asks for the password', async () => {
    const email = uniqueEmail('again');
    const password = strongPassword();
    await stack.api.post('/auth/register', { email, password });
    const first = linkIn(await stack.sink.waitFor(to(email)));
    const again = strongPassword();
    await stack.api.post('/auth/register', { email, password: again });
    const secondMail = await stack.sink.waitFor((m) => to(email)(m) && !m.text.includes(first.token));
    expect(secondMail.text).toMatch(/choose a new password/i);
    const second = linkIn(secondMail);

    expect((await stack.api.post('/auth/email/confirm', { token: first.token })).status).toBe(400);
    expect((await stack.api.post('/auth/email/confirm', { token: second.token })).status).toBe(400);
    expect((await stack.api.post('/auth/email/confirm', { token: second.token, password: again })).status).toBe(200);
    expect((await stack.api.post('/auth/login', { email, password: again })).status).toBe(200);
  });

  it('resends a link to unconfirmed accounts only, answering 202 for every address', async () => {
    const email = uniqueEmail('resend');
    await stack.api.post('/auth/register', { email, password: strongPassword() });
    const first = linkIn(await stack.sink.waitFor(to(email)));

    const unknown = await stack.api.post('/auth/email/resend', { email: uniqueEmail('nobody') });
    const known = await stack.api.post('/auth/email/resend', { email });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(known.body).toEqual({ status: 'accepted' });
    expect(unknown.body).toEqual(known.body);

    const second = await stack.sink.waitFor((m) => to(email)(m) && !m.text.includes(first.token));
    // Sent to whoever asked: confirming asks for a password, and the mail says so.
    expect(second.text).toMatch(/choose a new password/i);
    const password = strongPassword();
    expect((await stack.api.post('/auth/email/confirm', { token: linkIn(second).token, password })).status).toBe(200);
    expect((await stack.api.post('/auth/login', { email, password })).status).toBe(200);

    const before = stack.sink.messages.filter(to(email)).length;
    await stack.api.post('/auth/email/resend', { email });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(stack.sink.messages.filter(to(email))).toHaveLength(before);
  });
});

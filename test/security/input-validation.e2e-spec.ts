import { expectDocumentedResponses } from '../support/openapi-contract';
import { rawRequest } from '../support/raw-http';
import { createAccount, expectNoInternals, expectProblem, signIn } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/**
 * Mass assignment, type confusion and prototype pollution (ASVS 5.0 V2 validation, V15 secure
 * coding; OWASP REST and Mass Assignment cheat sheets): the edge refuses every field it does not
 * know and every value of the wrong type with a 400 problem document, never a 500, and nothing of
 * the attempt takes effect.
 */
describe('security: mass assignment, type confusion, prototype pollution', () => {
  let stack: Stack;
  let bearer: string;

  beforeAll(async () => {
    stack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'true' }, withoutWorker: true });
    const account = await createAccount(stack, { label: 'types' });
    bearer = (await signIn(stack, account.email, account.password)).accessToken;
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  /** Every JSON endpoint with a valid body; `auth` endpoints need the bearer. */
  function endpoints(): Array<{ path: string; body: Record<string, unknown>; auth?: boolean }> {
    return [
      { path: '/auth/register', body: { email: uniqueEmail('types-reg'), password: strongPassword(), name: 'Ada' } },
      { path: '/auth/login', body: { email: uniqueEmail('types-login'), password: strongPassword() } },
      { path: '/auth/refresh', body: { refreshToken: 'A'.repeat(43) } },
      { path: '/auth/logout', body: { refreshToken: 'A'.repeat(43) } },
      { path: '/auth/email/confirm', body: { token: 'A'.repeat(43) } },
      { path: '/auth/email/resend', body: { email: uniqueEmail('types-resend') } },
      { path: '/auth/password/forgot', body: { email: uniqueEmail('types-forgot') } },
      { path: '/auth/password/reset', body: { token: 'A'.repeat(43), password: strongPassword() } },
      { path: '/auth/password/change', body: { currentPassword: strongPassword(), newPassword: strongPassword() }, auth: true },
    ];
  }

  function post(path: string, body: unknown, auth?: boolean) {
    return stack.api.post(path, body, auth ? bearer : undefined);
  }

  function expectFieldRefused(response: Awaited<ReturnType<typeof post>>, field: string, context: unknown) {
    expect({ context, status: response.status }).toEqual({ context, status: 400 });
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect({ context, fields: response.body.errors.map((e: { field: string }) => e.field) }).toEqual({
      context,
      fields: expect.arrayContaining([field]),
    });
    expectNoInternals(JSON.stringify(response.body));
  }

  it('refuses privileged or unknown fields on register, and no account appears (confirmed or not)', async () => {
    const extras: Record<string, unknown> = {
      emailConfirmed: true,
      emailConfirmedAt: new Date().toISOString(),
      id: '00000000-0000-4000-8000-000000000000',
      role: 'admin',
      roles: ['admin'],
      isAdmin: true,
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$AAAA$AAAA',
      createdAt: '2000-01-01T00:00:00.000Z',
      user: { emailConfirmed: true },
    };
    for (const [field, value] of Object.entries(extras)) {
      const email = uniqueEmail('mass');
      const response = await post('/auth/register', { email, password: strongPassword(), [field]: value });
      expectFieldRefused(response, field, { field });
      expect(await stack.sql('select 1 from users where email_canonical = ?', [email])).toHaveLength(0);
    }
  });

  it('refuses unknown fields on every other endpoint, and the attempt changes nothing', async () => {
    const victim = await createAccount(stack, { label: 'mass-victim', confirmed: false });
    for (const { path, body, auth } of endpoints().slice(1)) {
      for (const [field, value] of Object.entries({ userId: victim.userId, emailConfirmed: true, sessionId: 'x', admin: true })) {
        expectFieldRefused(await post(path, { ...body, [field]: value }, auth), field, { path, field });
      }
    }
    const [row] = await stack.sql<{ email_confirmed_at: Date | null }>('select email_confirmed_at from users where id = ?', [victim.userId]);
    expect(row.email_confirmed_at).toBeNull();
  });

  it('refuses arrays, objects, numbers, null and booleans in place of every string field with 400', async () => {
    const confusions: unknown[] = [[], ['a@example.com'], {}, { $ne: null }, { $gt: '' }, { toString: 'x' }, 0, 1, -1, 1.5, 1e308, true, false, null];
    for (const { path, body, auth } of endpoints()) {
      for (const field of Object.keys(body)) {
        for (const value of confusions) {
          // An optional name may be null: that means "no name".
          if (field === 'name' && value === null) continue;
          expectFieldRefused(await post(path, { ...body, [field]: value }, auth), field, { path, field, value });
        }
        // A missing required field, too.
        if (field !== 'name') {
          const { [field]: _omitted, ...rest } = body;
          expectFieldRefused(await post(path, rest, auth), field, { path, missing: field });
        }
      }
    }
    // None of the operator objects signed anyone in.
    const operators = await post('/auth/login', { email: { $ne: null }, password: { $ne: null } });
    expect(operators.status).toBe(400);
  });

  it('refuses bodies that are not a JSON object with a 400 problem document', async () => {
    for (const { path, auth } of endpoints()) {
      for (const raw of ['[]', '[{"email":"a@example.com"}]', '"a@example.com"', '42', 'null', 'true', 'false']) {
        const response = await rawRequest(stack.api.baseUrl, 'POST', `/api/v1${path}`, {
          headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${bearer}` } : {}) },
          body: raw,
        });
        expect({ path, raw, status: response.status }).toEqual({ path, raw, status: 400 });
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.json).toMatchObject({ status: 400, code: expect.any(String) });
      }
    }
  });

  it('refuses __proto__ and constructor.prototype keys anywhere in a JSON body, and nothing is polluted', async () => {
    const email = uniqueEmail('proto');
    const password = strongPassword();
    const bodies = [
      `{"email":"${email}","password":"${password}","__proto__":{"emailConfirmed":true,"polluted":"yes"}}`,
      `{"email":"${email}","password":"${password}","constructor":{"prototype":{"emailConfirmed":true,"polluted":"yes"}}}`,
      `{"email":{"__proto__":{"polluted":"yes"}},"password":"${password}"}`,
      `{"email":"${email}","password":"${password}","name":{"constructor":{"prototype":{"polluted":"yes"}}}}`,
      `{"__proto__":{"__proto__":{"polluted":"yes"}},"email":"${email}","password":"${password}"}`,
      `{"email":"${email}","password":"${password}","\\u005f_proto__":{"polluted":"yes"}}`,
    ];
    for (const { path, auth } of endpoints()) {
      for (const body of bodies) {
        const response = await rawRequest(stack.api.baseUrl, 'POST', `/api/v1${path}`, {
          headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${bearer}` } : {}) },
          body,
        });
        expect({ path, body, status: response.status }).toEqual({ path, body, status: 400 });
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.json).toMatchObject({ status: 400, code: expect.any(String) });
      }
    }
    // The answer says what is wrong: the key, named, and no value of the body echoed.
    const expectations: Array<[string, string]> = [
      [bodies[0], '__proto__'],
      [bodies[1], 'constructor.prototype'],
      [bodies[2], '__proto__'],
      [bodies[3], 'constructor.prototype'],
      [bodies[5], '__proto__'],
    ];
    for (const [body, key] of expectations) {
      const response = await rawRequest(stack.api.baseUrl, 'POST', '/api/v1/auth/register', { headers: { 'content-type': 'application/json' }, body });
      expect({ body, problem: response.json }).toEqual({
        body,
        problem: expect.objectContaining({ status: 400, code: 'FORBIDDEN_KEY', detail: expect.stringContaining(`"${key}"`) }),
      });
      expect(response.json.detail).not.toMatch(/valid JSON/i);
      for (const value of [email, password, 'polluted', 'emailConfirmed']) expect({ body, echoed: response.text.includes(value) }).toEqual({ body, echoed: false });
    }
    // The page forms parse bodies too.
    const csrf = await stack.api.csrfToken();
    for (const form of ['__proto__[polluted]=yes&email=a@example.com', 'constructor[prototype][polluted]=yes&email=a@example.com', '__proto__=yes']) {
      for (const path of ['/forgot-password', '/confirm-email', '/reset-password', '/confirm-email/resend']) {
        const response = await rawRequest(stack.api.baseUrl, 'POST', path, {
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: stack.api.cookieHeader() },
          body: `${form}&_csrf=${encodeURIComponent(csrf)}`,
        });
        expect({ path, form, status: response.status < 500 }).toEqual({ path, form, status: true });
      }
    }
    for (const query of ['token[__proto__][polluted]=yes', '__proto__[polluted]=yes', 'token=a&token=b', 'constructor[prototype][polluted]=yes']) {
      const response = await rawRequest(stack.api.baseUrl, 'GET', `/confirm-email?${query}`);
      expect({ query, status: response.status < 500 }).toEqual({ query, status: true });
    }

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).emailConfirmed).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    expect(await stack.sql('select 1 from users where email_canonical = ?', [email])).toHaveLength(0);
  });
});

import { expectDocumentedResponses } from '../support/openapi-contract';
import { rawRequest, type RawResponse } from '../support/raw-http';
import { createAccount, expectNoInternals, signIn } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/**
 * The HTTP edge (ASVS 5.0 V4 API and web service, V3 web frontend; OWASP REST Security and HTTP
 * Headers cheat sheets): content types, sizes, parse errors, problem documents, security headers,
 * caching of token responses, CORS, and error bodies that never leak internals or secrets.
 */
describe('security: HTTP edge', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true });
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  const JSON_ENDPOINTS = [
    '/api/v1/auth/register',
    '/api/v1/auth/login',
    '/api/v1/auth/refresh',
    '/api/v1/auth/logout',
    '/api/v1/auth/email/confirm',
    '/api/v1/auth/email/resend',
    '/api/v1/auth/password/forgot',
    '/api/v1/auth/password/reset',
    '/api/v1/auth/password/change',
  ];

  function send(path: string, headers: Record<string, string>, body?: string | Buffer) {
    return rawRequest(stack.api.baseUrl, 'POST', path, { headers, body });
  }

  function expectProblemResponse(response: RawResponse, status: number, code: string, context: unknown) {
    expect({ context, status: response.status }).toEqual({ context, status });
    expect({ context, type: response.headers['content-type'] }).toEqual({ context, type: expect.stringMatching(/^application\/problem\+json/) });
    expect({ context, body: response.json }).toEqual({
      context,
      body: expect.objectContaining({ status, code, type: expect.any(String), title: expect.any(String) }),
    });
    expectNoInternals(response.text);
  }

  it('refuses bodies that are not application/json on /api/v1 with 415', async () => {
    const bodies: Array<[string, string]> = [
      ['text/plain', '{"email":"a@example.com"}'],
      ['application/x-www-form-urlencoded', 'email=a%40example.com&password=x'],
      ['multipart/form-data; boundary=XyZ', '--XyZ\r\nContent-Disposition: form-data; name="email"\r\n\r\na@example.com\r\n--XyZ--\r\n'],
      ['application/xml', '<email>a@example.com</email>'],
      ['text/html', '<b>x</b>'],
      ['application/json-patch+json', '[]'],
      ['application/jsonx', '{}'],
      ['', '{"email":"a@example.com"}'],
    ];
    for (const path of JSON_ENDPOINTS) {
      for (const [type, body] of bodies) {
        const headers: Record<string, string> = type ? { 'content-type': type } : {};
        expectProblemResponse(await send(path, headers, body), 415, 'UNSUPPORTED_MEDIA_TYPE', { path, type });
      }
    }
  });

  it('refuses a non-JSON body however the /api path is spelled (encoded, doubled or cased differently)', async () => {
    const account = await createAccount(stack, { label: 'spelling' });
    const form = `email=${encodeURIComponent(account.email)}&password=${encodeURIComponent(account.password)}`;
    // Spellings the router decodes to an API route: the body must be refused as it would be on /api.
    const routed = ['/%61pi/v1/auth/login', '/%61%70%69/v1/auth/login', '/api/v1/auth/%6cogin', '/api/%761/auth/login', '/api/v1/%61uth/login'];
    // Spellings no API route answers: whatever the answer, nobody is signed in.
    const unrouted = ['//api/v1/auth/login', '/api//v1/auth/login', '/API/v1/auth/login', '/Api/v1/auth/login', '/api%2Fv1/auth/login', '/api%2fv1%2fauth%2flogin', '/%2Fapi/v1/auth/login'];
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=XyZ']) {
      for (const path of routed) {
        expectProblemResponse(await send(path, { 'content-type': type }, form), 415, 'UNSUPPORTED_MEDIA_TYPE', { path, type });
      }
      for (const path of unrouted) {
        // Absolute, so a leading `//` stays part of the path.
        const response = await send(`${stack.api.baseUrl}${path}`, { 'content-type': type }, form);
        expect({ path, type, status: response.status, refused: [404, 415].includes(response.status) }).toMatchObject({ refused: true });
        expect({ path, type, tokens: /accessToken|refreshToken/.test(response.text) }).toEqual({ path, type, tokens: false });
      }
    }
    // The same encoded path with JSON is the real endpoint.
    const json = await send('/%61pi/v1/auth/login', { 'content-type': 'application/json' }, JSON.stringify({ email: account.email, password: account.password }));
    expect(json.status).toBe(200);
  });

  it('refuses a body of 16 KiB + 1 byte with 413, and takes one of exactly 16 KiB', async () => {
    const filler = (size: number) => {
      const skeleton = JSON.stringify({ email: 'a@example.com', password: '' });
      return JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(size - skeleton.length) });
    };
    expect(Buffer.byteLength(filler(16 * 1024 + 1))).toBe(16 * 1024 + 1);
    for (const path of JSON_ENDPOINTS) {
      expectProblemResponse(await send(path, { 'content-type': 'application/json' }, filler(16 * 1024 + 1)), 413, 'PAYLOAD_TOO_LARGE', { path });
    }
    const atLimit = await send('/api/v1/auth/login', { 'content-type': 'application/json' }, filler(16 * 1024));
    expect(atLimit.status).toBe(400); // parsed, then refused by validation (password over 1024 characters)
    expect(atLimit.json.code).toBe('VALIDATION_FAILED');
    // A much larger body is cut off the same way, without reading it all.
    expectProblemResponse(await send('/api/v1/auth/login', { 'content-type': 'application/json' }, 'x'.repeat(1024 * 1024)), 413, 'PAYLOAD_TOO_LARGE', {
      size: '1 MiB',
    });
  });

  it('answers malformed JSON and an empty JSON body with 400 problem documents', async () => {
    const malformed = ['{', '{"email":', "{'email':'a@example.com'}", '{"email":"a@example.com",}', 'undefined', '\u0000', '{"a":1}{"b":2}', '\ufeff{}x'];
    for (const path of JSON_ENDPOINTS) {
      for (const body of malformed) {
        expectProblemResponse(await send(path, { 'content-type': 'application/json' }, body), 400, 'MALFORMED_REQUEST', { path, body });
      }
      // An empty body is no body: refused by validation, or first by the missing bearer token.
      const empty = await send(path, { 'content-type': 'application/json' }, '');
      const status = path === '/api/v1/auth/password/change' ? 401 : 400;
      expect({ path, status: empty.status }).toEqual({ path, status });
      expect(empty.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(empty.json).toMatchObject({ status, code: status === 401 ? 'UNAUTHENTICATED' : 'VALIDATION_FAILED' });
    }
  });

  function expectSecurityHeaders(response: RawResponse, context: string) {
    const h = response.headers;
    expect({ context, poweredBy: h['x-powered-by'], server: h.server }).toEqual({ context, poweredBy: undefined, server: undefined });
    expect({ context, nosniff: h['x-content-type-options'] }).toEqual({ context, nosniff: 'nosniff' });
    expect({ context, csp: h['content-security-policy'] }).toEqual({ context, csp: expect.stringContaining("frame-ancestors 'none'") });
    expect({ context, xfo: h['x-frame-options'] }).toEqual({ context, xfo: expect.stringMatching(/^(DENY|SAMEORIGIN)$/) });
  }

  it('sends the security headers on JSON answers, errors and pages, and no X-Powered-By', async () => {
    const account = await createAccount(stack, { label: 'headers' });
    const login = await send('/api/v1/auth/login', { 'content-type': 'application/json' }, JSON.stringify({ email: account.email, password: account.password }));
    expect(login.status).toBe(200);
    const answers: Record<string, RawResponse> = {
      'login 200': login,
      'me 200': await rawRequest(stack.api.baseUrl, 'GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${login.json.accessToken}` } }),
      'me 401': await rawRequest(stack.api.baseUrl, 'GET', '/api/v1/users/me'),
      'unknown route 404': await rawRequest(stack.api.baseUrl, 'GET', '/api/v1/nope'),
      'validation 400': await send('/api/v1/auth/login', { 'content-type': 'application/json' }, '{}'),
      'malformed 400': await send('/api/v1/auth/login', { 'content-type': 'application/json' }, '{'),
      'too large 413': await send('/api/v1/auth/login', { 'content-type': 'application/json' }, 'x'.repeat(17_000)),
      'health 200': await rawRequest(stack.api.baseUrl, 'GET', '/health/live'),
    };
    for (const [context, response] of Object.entries(answers)) expectSecurityHeaders(response, context);

    for (const path of ['/confirm-email?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '/reset-password?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '/forgot-password', '/login', '/confirm-email']) {
      const page = await rawRequest(stack.api.baseUrl, 'GET', path);
      expectSecurityHeaders(page, path);
      expect({ path, referrer: page.headers['referrer-policy'] }).toEqual({ path, referrer: 'no-referrer' });
      expect({ path, csp: page.headers['content-security-policy'] }).toEqual({ path, csp: expect.stringContaining("default-src 'none'") });
    }
    // Pages that carry a token in their URL or form must not be cached.
    for (const path of ['/confirm-email?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '/reset-password?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
      expect((await rawRequest(stack.api.baseUrl, 'GET', path)).headers['cache-control']).toBe('no-store');
    }
  });

  it('sends the security headers on a 415 answer too', async () => {
    const response = await send('/api/v1/auth/login', { 'content-type': 'text/plain' }, 'x');
    expect(response.status).toBe(415);
    expectSecurityHeaders(response, '415');
  });

  it('answers errors the router raises before Nest (over-long or undecodable path parameter) with problem documents', async () => {
    for (const id of ['a'.repeat(2_000), '%ED%A0%80', '%E0%A4%A']) {
      const response = await rawRequest(stack.api.baseUrl, 'DELETE', `/api/v1/auth/sessions/${id}`);
      const context = { id: id.slice(0, 20), status: response.status, body: response.text.slice(0, 120) };
      expect({ ...context, below500: response.status < 500 }).toMatchObject({ below500: true });
      expect({ ...context, type: response.headers['content-type'] }).toMatchObject({ type: expect.stringMatching(/^application\/problem\+json/) });
      expect(response.json).toMatchObject({ status: response.status, code: expect.any(String) });
      expect(response.text).not.toMatch(/FST_ERR/);
    }
  });

  it('sends Cache-Control: no-store on every answer that carries or refuses tokens', async () => {
    const account = await createAccount(stack, { label: 'no-store' });
    const session = await signIn(stack, account.email, account.password);
    const answers = {
      'login 200': await stack.api.post('/auth/login', { email: account.email, password: account.password }),
      'login 401': await stack.api.post('/auth/login', { email: account.email, password: strongPassword() }),
      'refresh 200': await stack.api.post('/auth/refresh', { refreshToken: session.refreshToken }),
      'refresh 401': await stack.api.post('/auth/refresh', { refreshToken: session.refreshToken }),
    };
    for (const [context, response] of Object.entries(answers)) {
      expect({ context, cacheControl: response.headers.get('cache-control') }).toEqual({ context, cacheControl: 'no-store' });
    }
  });

  it('gives an Origin outside CORS_ORIGINS (none configured) no Access-Control-Allow-Origin', async () => {
    for (const origin of ['https://evil.test', 'null', 'http://accounts.test.evil.test']) {
      const preflight = await rawRequest(stack.api.baseUrl, 'OPTIONS', '/api/v1/auth/login', {
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
      expect({ origin, acao: preflight.headers['access-control-allow-origin'] }).toEqual({ origin, acao: undefined });
      const actual = await send('/api/v1/auth/login', { origin, 'content-type': 'application/json' }, '{}');
      expect({ origin, acao: actual.headers['access-control-allow-origin'], acac: actual.headers['access-control-allow-credentials'] }).toEqual({
        origin,
        acao: undefined,
        acac: undefined,
      });
    }
  });

  it('gives an Origin in CORS_ORIGINS its Access-Control-Allow-Origin, and no other origin', async () => {
    const cors = await startStack({ env: { CORS_ORIGINS: 'https://app.example' }, withoutWorker: true });
    try {
      const allowed = await rawRequest(cors.api.baseUrl, 'OPTIONS', '/api/v1/auth/login', {
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      expect(allowed.status).toBeLessThan(300);
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
      const actual = await rawRequest(cors.api.baseUrl, 'POST', '/api/v1/auth/login', {
        headers: { origin: 'https://app.example', 'content-type': 'application/json' },
        body: '{}',
      });
      expect(actual.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(actual.headers['access-control-allow-credentials']).toBeUndefined();
      expect(String(actual.headers.vary)).toMatch(/origin/i);

      for (const origin of ['https://evil.test', 'null', 'https://app.example.evil.test', 'https://evil-app.example', 'http://app.example']) {
        const refused = await rawRequest(cors.api.baseUrl, 'OPTIONS', '/api/v1/auth/login', {
          headers: { origin, 'access-control-request-method': 'POST' },
        });
        expect({ origin, acao: refused.headers['access-control-allow-origin'] }).toEqual({ origin, acao: undefined });
        const post = await rawRequest(cors.api.baseUrl, 'POST', '/api/v1/auth/login', {
          headers: { origin, 'content-type': 'application/json' },
          body: '{}',
        });
        expect({ origin, acao: post.headers['access-control-allow-origin'] }).toEqual({ origin, acao: undefined });
      }
    } finally {
      await cors.close();
    }
  });

  it('never puts a stack trace, SQL, a file path, or a submitted password or token in an error body', async () => {
    const account = await createAccount(stack, { label: 'no-echo' });
    const secretPassword = `Sekrit-${strongPassword()}`;
    const secretToken = 'TOKENSECRET' + 'x'.repeat(32);
    const weakEmail = uniqueEmail('no-echo-weak');
    const weak = `${weakEmail.split('@')[0]}-and-more`;
    const attempts: Array<[string, unknown, string?]> = [
      ['/auth/login', { email: account.email, password: secretPassword }],
      ['/auth/login', { email: uniqueEmail('no-echo'), password: secretPassword }],
      ['/auth/login', { email: `not-an-email ${secretPassword}`, password: secretPassword }],
      ['/auth/register', { email: account.email, password: secretPassword }],
      ['/auth/register', { email: weakEmail, password: weak }],
      ['/auth/register', { email: uniqueEmail('no-echo'), password: 'Sekrit-1' }],
      ['/auth/register', { email: uniqueEmail('no-echo'), password: secretPassword, extra: secretToken }],
      ['/auth/register', { email: uniqueEmail('no-echo'), password: [secretPassword] }],
      ['/auth/refresh', { refreshToken: secretToken }],
      ['/auth/refresh', { refreshToken: `${secretToken}${'y'.repeat(600)}` }],
      ['/auth/email/confirm', { token: secretToken }],
      ['/auth/password/reset', { token: secretToken, password: secretPassword }],
      ['/auth/password/reset', { token: secretToken, password: 'Sekrit' }],
      ['/auth/password/change', { currentPassword: secretPassword, newPassword: secretPassword }],
    ];
    for (const [path, body] of attempts) {
      const response = await stack.api.post(path, body);
      expect({ path, body, refused: response.status >= 400 }).toEqual({ path, body, refused: true });
      const text = JSON.stringify(response.body);
      for (const secret of [secretPassword, secretToken, weak, 'Sekrit']) {
        expect({ path, echoed: text.includes(secret) }).toEqual({ path, echoed: false });
      }
      expectNoInternals(text);
    }
    const session = await signIn(stack, account.email, account.password);
    const change = await stack.api.post('/auth/password/change', { currentPassword: secretPassword, newPassword: 'Sekrit-weak' }, session.accessToken);
    expect(change.status).toBe(400);
    expect(JSON.stringify(change.body)).not.toContain('Sekrit');
    const malformed = await send('/api/v1/auth/login', { 'content-type': 'application/json' }, `{"password":"${secretPassword}",`);
    expect(malformed.text).not.toContain(secretPassword);
    expectNoInternals(malformed.text);
    const badBearer = await rawRequest(stack.api.baseUrl, 'GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${secretToken}.a.b` } });
    expect(badBearer.text).not.toContain(secretToken);
  });
});

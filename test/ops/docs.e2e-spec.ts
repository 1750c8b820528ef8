import { rawRequest } from '../support/raw-http';
import { startStack, type Stack } from '../support/stack';

/** Every endpoint of the HTTP API (SPEC §4), as method and OpenAPI path. */
const SPEC_ENDPOINTS: Array<[method: string, path: string, bearer: boolean, problems: Record<string, string[]>]> = [
  ['post', '/api/v1/auth/register', false, { 400: ['VALIDATION_FAILED', 'PASSWORD_TOO_WEAK'], 409: ['EMAIL_TAKEN'] }],
  ['post', '/api/v1/auth/login', false, { 401: ['INVALID_CREDENTIALS', 'MFA_REQUIRED'], 403: ['EMAIL_NOT_CONFIRMED'], 429: ['TOO_MANY_REQUESTS'] }],
  ['post', '/api/v1/auth/refresh', false, { 401: ['INVALID_REFRESH_TOKEN'] }],
  ['post', '/api/v1/auth/logout', false, {}],
  ['get', '/api/v1/auth/sessions', true, { 401: ['UNAUTHENTICATED'] }],
  ['delete', '/api/v1/auth/sessions/{id}', true, { 404: ['NOT_FOUND'] }],
  ['delete', '/api/v1/auth/sessions', true, { 401: ['UNAUTHENTICATED'] }],
  ['post', '/api/v1/auth/email/confirm', false, { 400: ['INVALID_TOKEN', 'PASSWORD_TOO_WEAK'] }],
  ['post', '/api/v1/auth/email/resend', false, { 429: ['TOO_MANY_REQUESTS'] }],
  ['post', '/api/v1/auth/password/forgot', false, { 429: ['TOO_MANY_REQUESTS'] }],
  ['post', '/api/v1/auth/password/reset', false, { 400: ['INVALID_TOKEN', 'PASSWORD_TOO_WEAK'] }],
  ['post', '/api/v1/auth/password/change', true, { 400: ['INVALID_CREDENTIALS', 'PASSWORD_TOO_WEAK'], 401: ['UNAUTHENTICATED'] }],
  ['get', '/api/v1/users/me', true, { 401: ['UNAUTHENTICATED'] }],
  ['post', '/api/v1/users/me/email', true, { 400: ['INVALID_CREDENTIALS', 'VALIDATION_FAILED'], 401: ['UNAUTHENTICATED', 'REAUTHENTICATION_REQUIRED'], 429: ['TOO_MANY_REQUESTS'] }],
  ['post', '/api/v1/auth/email/change/confirm', false, { 400: ['INVALID_TOKEN'], 409: ['EMAIL_TAKEN'] }],
  ['post', '/api/v1/auth/email/change/undo', false, { 400: ['INVALID_TOKEN'] }],
  ['patch', '/api/v1/users/me', true, { 400: ['VALIDATION_FAILED'], 401: ['UNAUTHENTICATED'] }],
  ['delete', '/api/v1/users/me', true, { 400: ['INVALID_CREDENTIALS', 'VALIDATION_FAILED'], 401: ['UNAUTHENTICATED', 'REAUTHENTICATION_REQUIRED'], 429: ['TOO_MANY_REQUESTS'] }],
  ['get', '/api/v1/users/me/activity', true, { 400: ['VALIDATION_FAILED'], 401: ['UNAUTHENTICATED'] }],
  ['get', '/api/v1/users/me/export', true, { 401: ['UNAUTHENTICATED'] }],
  // SPEC §11
  ['post', '/api/v1/auth/login/mfa', false, { 400: ['INVALID_MFA_CODE'], 401: ['INVALID_MFA_TOKEN'], 429: ['TOO_MANY_REQUESTS'] }],
  ['post', '/api/v1/auth/mfa/totp/setup', true, { 400: ['INVALID_CREDENTIALS'], 401: ['REAUTHENTICATION_REQUIRED'], 403: ['EMAIL_NOT_CONFIRMED'], 409: ['MFA_ALREADY_ENABLED'] }],
  ['post', '/api/v1/auth/mfa/totp/enable', true, { 400: ['INVALID_MFA_CODE'], 403: ['EMAIL_NOT_CONFIRMED'] }],
  ['delete', '/api/v1/auth/mfa/totp', true, { 400: ['INVALID_CREDENTIALS', 'INVALID_MFA_CODE'], 401: ['REAUTHENTICATION_REQUIRED'] }],
  ['post', '/api/v1/auth/mfa/recovery-codes', true, { 400: ['INVALID_CREDENTIALS', 'INVALID_MFA_CODE'], 401: ['REAUTHENTICATION_REQUIRED'] }],
  // §12
  ['get', '/api/v1/auth/oidc/{provider}/authorize', false, { 400: ['REDIRECT_URI_NOT_ALLOWED', 'PKCE_REQUIRED'], 404: ['NOT_FOUND'], 503: ['PROVIDER_UNAVAILABLE'] }],
  ['post', '/api/v1/auth/oidc/exchange', false, { 400: ['INVALID_TOKEN'] }],
  ['get', '/api/v1/users/me/identities', true, { 401: ['UNAUTHENTICATED'] }],
  ['delete', '/api/v1/users/me/identities/{id}', true, { 404: ['NOT_FOUND'], 409: ['LAST_SIGN_IN_METHOD'] }],
];

type ProblemPart = { allOf?: Array<{ $ref?: string; required?: string[]; properties?: { code?: { enum: string[] }; mfaToken?: { type: string } } }> };

type Operation = {
  security?: Array<Record<string, string[]>>;
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: ProblemPart & { $ref?: string; type?: string; items?: { $ref?: string }; oneOf?: ProblemPart[] } }> }>;
};

describe('ops: OpenAPI document and Swagger UI', () => {
  let stack: Stack;
  let document: {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
    components: { securitySchemes: Record<string, { type: string; scheme: string }>; schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
  };

  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true });
    const answer = await fetch(`${stack.opsUrl}/docs/openapi.json`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    document = (await answer.json()) as typeof document;
  });
  afterAll(() => stack?.close());

  it('lists every endpoint of the spec under /api/v1, and no page', () => {
    expect(document.openapi).toMatch(/^3\./);
    for (const [method, path] of SPEC_ENDPOINTS) expect({ path, method, documented: Boolean(document.paths[path]?.[method]) }).toEqual({ path, method, documented: true });
    const apiPaths = Object.keys(document.paths).filter((path) => path.startsWith('/api/'));
    expect(apiPaths.sort()).toEqual([...new Set(SPEC_ENDPOINTS.map(([, path]) => path))].sort());
    expect(Object.keys(document.paths).filter((path) => !/^\/(api\/v1\/|health\/)/.test(path))).toEqual([]);
    expect(document.paths['/health/ready']?.get).toBeDefined();
  });

  it('declares bearer auth and requires it exactly on the bearer endpoints', () => {
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [method, path, bearer] of SPEC_ENDPOINTS) {
      const security = document.paths[path][method].security ?? [];
      expect({ path, method, bearer: security.some((entry) => 'bearer' in entry) }).toEqual({ path, method, bearer });
    }
  });

  it('describes request bodies, success schemas and problem documents with their codes', () => {
    const register = document.paths['/api/v1/auth/register'].post;
    const body = register.requestBody!.content['application/json'].schema.$ref!;
    const schema = document.components.schemas[body.split('/').pop()!];
    expect(Object.keys(schema.properties!)).toEqual(['email', 'password', 'name']);
    expect(schema.required).toEqual(['email', 'password']);
    expect(register.responses['201'].content!['application/json'].schema.$ref).toMatch(/RegisteredResponse$/);
    expect(register.responses['202'].content!['application/json'].schema.$ref).toMatch(/ConfirmationRequiredResponse$/);
    expect(document.paths['/api/v1/auth/login'].post.responses['200'].content!['application/json'].schema.$ref).toMatch(/SignedInResponse$/);
    expect(document.paths['/api/v1/auth/sessions'].get.responses['200'].content!['application/json'].schema).toMatchObject({ type: 'array', items: { $ref: expect.stringMatching(/SessionResponse$/) } });
    expect(Object.keys(document.components.schemas.ProblemDocument.properties!)).toEqual(['type', 'title', 'status', 'code', 'detail', 'errors']);

    for (const [method, path, , problems] of SPEC_ENDPOINTS) {
      const responses = document.paths[path][method].responses;
      for (const [status, codes] of Object.entries(problems)) {
        const response = responses[status];
        expect({ path, method, status, documented: Boolean(response) }).toEqual({ path, method, status, documented: true });
        // One part per problem shape: codes with an extension member (MFA_REQUIRED) have their own.
        const schema = response.content!['application/problem+json'].schema;
        const parts = (schema.oneOf ?? [schema]).map((part) => part.allOf!);
        for (const [base] of parts) expect(base.$ref).toMatch(/ProblemDocument$/);
        const documented = parts.flatMap(([, narrowed]) => narrowed.properties!.code!.enum);
        for (const code of codes) {
          expect({ path, status, description: response.description }).toEqual({ path, status, description: expect.stringContaining(code) });
          expect({ path, status, codes: documented }).toEqual({ path, status, codes: expect.arrayContaining([code]) });
        }
      }
    }
  });

  it('documents the PKCE parameters of the API consumers\' identity-provider sign-in', () => {
    const authorize = document.paths['/api/v1/auth/oidc/{provider}/authorize'].get as Operation & {
      parameters: Array<{ name: string; in: string; required?: boolean; schema: { enum?: string[]; pattern?: string } }>;
    };
    const query = Object.fromEntries(authorize.parameters.filter((parameter) => parameter.in === 'query').map((parameter) => [parameter.name, parameter]));
    expect(Object.keys(query).sort()).toEqual(['code_challenge', 'code_challenge_method', 'redirect_uri', 'state']);
    expect(query.code_challenge).toMatchObject({ required: false, schema: { pattern: '^[A-Za-z0-9_-]{43}$' } });
    expect(query.code_challenge_method).toMatchObject({ required: false, schema: { enum: ['S256'] } });

    const body = document.paths['/api/v1/auth/oidc/exchange'].post.requestBody!.content['application/json'].schema.$ref!;
    const schema = document.components.schemas[body.split('/').pop()!];
    expect(Object.keys(schema.properties!)).toEqual(['code', 'code_verifier', 'redirect_uri']);
    expect(schema.required).toEqual(['code']);
  });

  it('types the mfaToken extension member of MFA_REQUIRED, required in that problem only', () => {
    const parts = document.paths['/api/v1/auth/login'].post.responses['401'].content!['application/problem+json'].schema.oneOf!;
    const mfa = parts.map((part) => part.allOf![1]).find((narrowed) => narrowed.properties!.code!.enum.includes('MFA_REQUIRED'))!;
    expect(mfa.properties!.code!.enum).toEqual(['MFA_REQUIRED']);
    expect(mfa.properties!.mfaToken).toMatchObject({ type: 'string' });
    expect(mfa.required).toEqual(expect.arrayContaining(['status', 'code', 'mfaToken']));
    const other = parts.map((part) => part.allOf![1]).find((narrowed) => narrowed.properties!.code!.enum.includes('INVALID_CREDENTIALS'))!;
    expect(other.properties!.mfaToken).toBeUndefined();
  });

  it('serves Swagger UI at /docs under a CSP that lets it run, and keeps the strict one elsewhere', async () => {
    const page = await rawRequest(stack.opsUrl, 'GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(csp).toContain("frame-ancestors 'none'");
    const scripts = [...page.text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    const styles = [...page.text.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => m[1]);
    expect(page.text).not.toMatch(/<script>/);
    for (const asset of [...scripts, ...styles]) {
      const answer = await rawRequest(stack.opsUrl, 'GET', asset);
      expect({ asset, status: answer.status }).toEqual({ asset, status: 200 });
    }
    expect((await rawRequest(stack.opsUrl, 'GET', '/docs/assets/package.json')).status).toBe(404);
    expect((await rawRequest(stack.opsUrl, 'GET', '/docs/assets/..%2Fpackage.json')).status).toBe(404);

    const elsewhere = await rawRequest(stack.opsUrl, 'GET', '/metrics');
    expect(elsewhere.headers['content-security-policy']).toContain("default-src 'none'");
    expect(elsewhere.headers['content-security-policy']).not.toContain('script-src');
  });
});

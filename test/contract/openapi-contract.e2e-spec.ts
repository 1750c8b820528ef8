import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { pathTemplateOf, responseViolations, type OpenApiDocument, type SeenResponse } from '../support/openapi-contract';
import { linkIn, startStack, to, type Stack } from '../support/stack';
import { totpCode } from '../support/totp';
import { strongPassword, uniqueEmail } from '../support/unique';
import type { DriveEveryOperation } from './support/client-run';

const ROOT = resolve(__dirname, '../..');
const CLIENT_SOURCE = join(__dirname, 'typed-client.ts');
const PASSWORD_MIN_LENGTH = 14;

/**
 * Warnings of Redocly's recommended rules we keep, each with its reason. Health endpoints take no
 * input and answer no 4xx: a documented 4xx there would be a lie. The start of an identity-provider
 * sign-in is a browser navigation whose only success is a redirect (302) to the provider.
 */
const ACCEPTED_WARNINGS = [
  { rule: 'operation-4xx-response', where: /^#\/paths\/~1health~1(live|ready)\/get\/responses$/ },
  { rule: 'operation-2xx-response', where: /^#\/paths\/~1api~1v1~1auth~1oidc~1\{provider\}~1authorize\/get\/responses$/ },
];

interface LintProblem {
  rule: string;
  severity: 'error' | 'warn';
  message: string;
  where: string;
}

describe('contract: the API as a generated client sees it', () => {
  let stack: Stack;
  let source: string;
  let document: OpenApiDocument & { servers?: Array<{ url: string }>; components: { schemas: Record<string, { properties?: Record<string, { minLength?: number }> }> } };
  let workdir: string;
  let lint: LintProblem[];

  beforeAll(async () => {
    stack = await startStack({ env: { PASSWORD_MIN_LENGTH: String(PASSWORD_MIN_LENGTH), OIDC_REDIRECT_ALLOWLIST: 'https://app.example/callback,com.example.app:/oauth' } });
    const answer = await fetch(`${stack.opsUrl}/docs/openapi.json`);
    source = await answer.text();
    document = JSON.parse(source);
    // What a consumer does with the document: lint it and generate types, with their own tools.
    workdir = mkdtempSync(join(tmpdir(), 'accounts-contract-'));
    mkdirSync(join(workdir, 'generated'));
    writeFileSync(join(workdir, 'openapi.json'), source);
    const { stdout } = await promisify(execFile)(process.execPath, [
      join(__dirname, 'support', 'openapi-tools.mjs'),
      join(workdir, 'openapi.json'),
      join(workdir, 'generated', 'openapi.d.ts'),
    ]);
    lint = JSON.parse(stdout);
  }, 60_000);
  afterAll(async () => {
    if (workdir) rmSync(workdir, { recursive: true, force: true });
    await stack?.close();
  });

  it("lints with no error under Redocly's recommended rules, and no warning but the accepted ones", () => {
    expect(lint.filter((problem) => problem.severity === 'error')).toEqual([]);
    const unexplained = lint.filter((problem) => !ACCEPTED_WARNINGS.some(({ rule, where }) => problem.rule === rule && where.test(problem.where)));
    expect(unexplained).toEqual([]);
  });

  it('documents what the server enforces: the configured password length and the public base URL', () => {
    const minLengths = [
      ['RegisterDto', 'password'],
      ['ResetPasswordDto', 'password'],
      ['ChangePasswordDto', 'newPassword'],
    ].map(([schema, property]) => document.components.schemas[schema].properties?.[property]?.minLength);
    expect(minLengths).toEqual([PASSWORD_MIN_LENGTH, PASSWORD_MIN_LENGTH, PASSWORD_MIN_LENGTH]);
    expect(document.servers).toEqual([expect.objectContaining({ url: expect.stringMatching(/^https?:\/\//) })]);
  });

  it('compiles a typed client of every operation from the generated types under strict TypeScript, with no casts', () => {
    const client = join(workdir, 'typed-client.ts');
    copyFileSync(CLIENT_SOURCE, client);
    mkdirSync(join(workdir, 'support'));
    copyFileSync(join(__dirname, 'support', 'client-run.ts'), join(workdir, 'support', 'client-run.ts'));
    const program = ts.createProgram([client], {
      strict: true,
      noEmit: true,
      noUnusedLocals: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: [],
      baseUrl: workdir,
      paths: { '*': [join(ROOT, 'node_modules', '*')] },
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    expect(diagnostics).toEqual([]);

    const casts: string[] = [];
    const calls = new Set<string>();
    const file = program.getSourceFile(client)!;
    const visit = (node: ts.Node): void => {
      if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node) || ts.isNonNullExpression(node) || node.kind === ts.SyntaxKind.AnyKeyword) {
        casts.push(node.getText(file));
      }
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && /^(GET|POST|PUT|PATCH|DELETE)$/.test(node.expression.name.text)) {
        const [path] = node.arguments;
        if (path && ts.isStringLiteral(path)) calls.add(`${node.expression.name.text.toLowerCase()} ${path.text}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
    expect(casts).toEqual([]);
    const operations = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
    expect([...calls].sort()).toEqual(operations.sort());
  }, 60_000);

  it('runs the typed client against the API, and every response it gets is the documented one', async () => {
    const seen: SeenResponse[] = [];
    const recordingFetch = async (request: Request): Promise<Response> => {
      const response = await fetch(request);
      const text = await response.clone().text();
      const contentType = response.headers.get('content-type') ?? '';
      seen.push({ method: request.method, url: request.url, status: response.status, contentType, body: contentType.includes('json') && text ? JSON.parse(text) : text });
      return response;
    };
    const email = uniqueEmail('contract');
    const passwords: [string, string, string] = [strongPassword(), strongPassword(), strongPassword()];
    // Loaded by path, not imported: its generated types exist only in this test (see the file).
    const { driveEveryOperation } = require(CLIENT_SOURCE) as { driveEveryOperation: DriveEveryOperation };
    const log = await driveEveryOperation({
      baseUrl: stack.api.baseUrl,
      fetch: recordingFetch,
      email,
      passwords,
      resetToken: async (address) => linkIn(await stack.sink.waitFor((mail) => to(address)(mail) && /reset/i.test(mail.subject))).token,
      totpCode,
    });
    expect(log).toEqual([
      'live ok',
      'ready database up',
      'register created unconfirmed',
      'register again EMAIL_TAKEN',
      'login wrong INVALID_CREDENTIALS',
      'login Bearer integer',
      'me same address',
      'identities 0, unlink NOT_FOUND',
      'authorize NOT_FOUND, REDIRECT_URI_NOT_ALLOWED, PKCE_REQUIRED; exchange INVALID_TOKEN',
      'refresh replayed INVALID_REFRESH_TOKEN',
      'sessions 2 live, 1 other',
      'revoke again NOT_FOUND',
      'change 204',
      'resend accepted, confirm INVALID_TOKEN',
      'forgot accepted, reset 204',
      'me after reset UNAUTHENTICATED',
      'logout 204',
      'email change accepted, confirm INVALID_TOKEN, undo INVALID_TOKEN',
      'everywhere 204, then UNAUTHENTICATED',
      'mfa svg, 10 recovery codes',
      'login MFA_REQUIRED, INVALID_MFA_CODE, then signed in with MFA',
      'renewed 10, disable 204',
      'rename cleared, empty VALIDATION_FAILED',
      'activity signin.succeeded, mfa.disabled, older some, limit 0 VALIDATION_FAILED',
      'export same address, with sessions',
      'delete with an old password INVALID_CREDENTIALS',
      'delete 204, then UNAUTHENTICATED',
    ]);
    const operations = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
    const answered = new Set(seen.map((response) => `${response.method.toLowerCase()} ${pathTemplateOf(document, response.url, stack.api.baseUrl)}`));
    expect([...answered].sort()).toEqual(operations.sort());
    expect(responseViolations(document, seen, stack.api.baseUrl)).toEqual([]);
  }, 60_000);

  it('catches a response that drifted from the document', () => {
    const base = stack.api.baseUrl;
    const drifted: SeenResponse[] = [
      { method: 'GET', url: `${base}/api/v1/users/me`, status: 418, contentType: 'application/json', body: {} },
      { method: 'POST', url: `${base}/api/v1/auth/email/resend`, status: 202, contentType: 'text/plain', body: 'accepted' },
      { method: 'POST', url: `${base}/api/v1/auth/email/resend`, status: 202, contentType: 'application/json', body: { status: 'accepted', extra: 1 } },
      { method: 'POST', url: `${base}/api/v1/auth/refresh`, status: 401, contentType: 'application/problem+json', body: { type: '/problems/x', title: 'X', status: 401, code: 'NOT_A_CODE' } },
      // MFA_REQUIRED without its extension member.
      { method: 'POST', url: `${base}/api/v1/auth/login`, status: 401, contentType: 'application/problem+json', body: { type: '/problems/mfa-required', title: 'MFA required', status: 401, code: 'MFA_REQUIRED' } },
      { method: 'DELETE', url: `${base}/api/v1/auth/sessions/0b7f0b8e-5a3c-4c39-9f4b-0d1c2f3a4b5c`, status: 204, contentType: 'application/json', body: '' },
      { method: 'GET', url: `${base}/login`, status: 200, contentType: 'text/html', body: '<html>' },
    ];
    expect(responseViolations(document, drifted, base)).toEqual([
      'GET /api/v1/users/me 418: status not documented',
      'POST /api/v1/auth/email/resend 202: media type text/plain not documented (application/json)',
      'POST /api/v1/auth/email/resend 202: .extra is not documented',
      expect.stringMatching(/^POST \/api\/v1\/auth\/refresh 401: \.code: "NOT_A_CODE" not in enum/),
      'POST /api/v1/auth/login 401: (body) matches not exactly one of oneOf',
      'DELETE /api/v1/auth/sessions/{id} 204: documented without a body, got application/json',
    ]);
  });
});

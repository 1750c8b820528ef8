import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner } from '@nestjs/core';
import { AccountPagesController } from '../../apps/api/src/web/account-pages.controller';
import { EmailChangePagesController } from '../../apps/api/src/web/email-change-pages.controller';
import { LinkPagesController } from '../../apps/api/src/web/link-pages.controller';
import { OidcPagesController } from '../../apps/api/src/web/oidc-pages.controller';
import { ApiClient, type ApiResponse } from '../support/api-client';
import { createAccount } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

const BOGUS_TOKEN = 'A'.repeat(43);

/** `GET /login`, … : every route the page controllers declare, read from their decorators. */
function declaredPageRoutes(): string[] {
  const scanner = new MetadataScanner();
  return [AccountPagesController, LinkPagesController, EmailChangePagesController, OidcPagesController].flatMap((controller) =>
    scanner.getAllMethodNames(controller.prototype).flatMap((name) => {
      const handler = controller.prototype[name as keyof typeof controller.prototype] as object;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (path === undefined) return [];
      return [`${RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod]} /${path}`];
    }),
  );
}

/**
 * Every page answer is personal (CSRF secret cookie, session cookie, tokens in forms, signed-in
 * data): a shared cache or the browser's history must not keep one (ASVS 5.0 V14.3).
 */
describe('security: pages are never cached', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true });
  });
  afterAll(() => stack.close());

  it('answers every page route, GET and POST, signed in or not, with Cache-Control: no-store', async () => {
    const account = await createAccount(stack, { label: 'no-store-page' });
    const visitor = new ApiClient(stack.api.baseUrl);
    const user = new ApiClient(stack.api.baseUrl);
    const answers: Array<[string, number, ApiResponse]> = [];
    /** The status shows the request reached its handler, not a CSRF or guard refusal. */
    const record = async (route: string, status: number, response: Promise<ApiResponse>) => answers.push([route, status, await response]);

    await record('GET /forgot-password', 200, visitor.request('GET', '/forgot-password'));
    await record('POST /forgot-password', 200, visitor.form('/forgot-password', { email: uniqueEmail('no-store') }));
    // An unknown token: the GET peeks it and shows the invalid-link page (400), without spending anything.
    await record('GET /confirm-email', 400, visitor.request('GET', `/confirm-email?token=${BOGUS_TOKEN}`));
    await record('POST /confirm-email', 400, visitor.form('/confirm-email', { token: BOGUS_TOKEN }));
    await record('POST /confirm-email/resend', 200, visitor.form('/confirm-email/resend', { email: uniqueEmail('no-store') }));
    await record('GET /reset-password', 200, visitor.request('GET', `/reset-password?token=${BOGUS_TOKEN}`));
    const password = strongPassword();
    await record('POST /reset-password', 400, visitor.form('/reset-password', { token: BOGUS_TOKEN, password, passwordConfirm: password }));
    await record('GET /register', 200, visitor.request('GET', '/register'));
    await record('POST /register', 303, visitor.form('/register', { email: uniqueEmail('no-store'), password, passwordConfirm: password }));
    await record('GET /login', 200, user.request('GET', '/login'));
    await record('POST /login', 303, user.form('/login', { email: account.email, password: account.password }));
    await record('GET /account', 200, user.request('GET', '/account'));
    await record('POST /account/confirmation', 303, user.form('/account/confirmation', {}));
    const newPassword = strongPassword();
    await record('POST /account/password', 303, user.form('/account/password', { currentPassword: account.password, newPassword, passwordConfirm: newPassword }));
    await record('POST /account/email', 200, user.form('/account/email', { newEmail: uniqueEmail('no-store-new'), currentPassword: newPassword }));
    for (const page of ['/confirm-email-change', '/undo-email-change']) {
      await record(`GET ${page}`, 400, visitor.request('GET', `${page}?token=${BOGUS_TOKEN}`));
      await record(`POST ${page}`, 400, visitor.form(page, { token: BOGUS_TOKEN }));
    }
    await record('POST /account/identities/:id/unlink', 404, user.form('/account/identities/0b7f0b8e-5a3c-4c39-9f4b-0d1c2f3a4b5c/unlink', {}));
    // This stack configures no identity provider and no redirect URI: refusals, no-store all the same.
    await record('GET /auth/oidc/:provider', 404, visitor.request('GET', '/auth/oidc/corp'));
    await record('GET /auth/oidc/:provider/callback', 404, visitor.request('GET', '/auth/oidc/corp/callback?code=x&state=y'));
    await record('GET /api/v1/auth/oidc/:provider/authorize', 400, visitor.request('GET', '/api/v1/auth/oidc/corp/authorize?redirect_uri=https%3A%2F%2Fapp.example%2Fcb'));
    await record('POST /account/sign-out-everywhere', 303, user.form('/account/sign-out-everywhere', {}));
    await record('POST /login', 303, user.form('/login', { email: account.email, password: newPassword }));
    await record('POST /logout', 303, user.form('/logout', {}));

    const pages = declaredPageRoutes().filter((route) => route !== 'GET /assets/site.css');
    expect(new Set(answers.map(([route]) => route))).toEqual(new Set(pages));
    for (const [route, status, response] of answers) {
      expect({ route, status: response.status, cacheControl: response.headers.get('cache-control') }).toEqual({ route, status, cacheControl: 'no-store' });
    }
  });

  it('lets the stylesheet, the same for everyone, be cached', async () => {
    const css = await stack.api.request('GET', '/assets/site.css');
    expect(css.headers.get('cache-control')).toBe('public, max-age=3600');
  });
});

import { Controller, Get, Param, Query, Req, Res, UseFilters, UseInterceptors } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  MfaRequiredError,
  OIDC_FLOW_TTL_SECONDS,
  OidcClient,
  OidcProviderUnavailableError,
  OidcSignInFailedError,
  OidcSignInService,
  RateLimits,
  UnknownOidcProviderError,
} from '@accounts/auth';
import { API_PREFIX } from '../api-prefix.constant';
import { clientMeta } from '../auth/request-context.decorators';
import { OidcAuthorizeQueryDto } from '../auth/dto/oidc.dto';
import { ApiProblems, SERVER_PROBLEMS } from '../http/problem.openapi';
import { BrowserSessions } from './browser-sessions.service';
import { MfaSecondStepPage } from './mfa-second-step.page';
import { NoStorePages } from './no-store-pages.interceptor';
import { PageErrorsFilter } from './page-errors.filter';

/**
 * Sign-in through external identity providers in the browser (SPEC §12): the start, the one
 * callback per provider (for browser sign-ins and API consumers' alike: the flow knows which it
 * is), and the API consumers' start, which is a browser navigation too (a 302 to the provider).
 * The flow's secrets stay on the server; this browser holds only the cookie that binds the flow to
 * it. Failures at the pages are shown in words.
 */
@Controller()
@UseInterceptors(NoStorePages)
export class OidcPagesController {
  constructor(
    private readonly signIn: OidcSignInService,
    private readonly oidc: OidcClient,
    private readonly browser: BrowserSessions,
    private readonly limits: RateLimits,
    private readonly mfaSecondStep: MfaSecondStepPage,
  ) {}

  @Get('auth/oidc/:provider')
  @ApiExcludeEndpoint()
  @UseFilters(PageErrorsFilter)
  async start(@Param('provider') provider: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.limits.consume('authPerIp', request.ip);
    try {
      const started = await this.signIn.start(provider, this.browser.oidcBinding(request));
      this.browser.bindOidc(reply, started.browserSecret, OIDC_FLOW_TTL_SECONDS);
      return reply.status(303).redirect(started.url.href);
    } catch (error) {
      return this.failurePage(reply, provider, error);
    }
  }

  @Get('auth/oidc/:provider/callback')
  @ApiExcludeEndpoint()
  @UseFilters(PageErrorsFilter)
  async callback(@Param('provider') provider: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.limits.consume('authPerIp', request.ip);
    // The query as the provider sent it, on our own origin: nothing from Host decides anything.
    const callbackUrl = new URL(request.url, 'http://callback.invalid');
    const current = new URL(this.signIn.callbackUrl(provider));
    current.search = callbackUrl.search;
    try {
      const finished = await this.signIn.finish(provider, current, this.browser.oidcBinding(request), clientMeta(request));
      if ('redirectTo' in finished) return reply.status(303).redirect(finished.redirectTo);
      await this.browser.start(reply, finished.signedIn);
      return reply.status(303).redirect('/account');
    } catch (error) {
      // The provider proved the first factor; an account with MFA on still asks for its code.
      if (error instanceof MfaRequiredError) return this.mfaSecondStep.render(request, reply, error.mfaToken);
      return this.failurePage(reply, provider, error);
    }
  }

  @Get(`${API_PREFIX}/auth/oidc/:provider/authorize`)
  @ApiTags('auth')
  @ApiOperation({
    summary: 'Start a sign-in through an identity provider for a single-page or mobile app',
    description:
      'Open this URL in the browser (system browser or an in-app browser tab, never an embedded web view). It redirects to the provider; ' +
      'apps send a PKCE code_challenge (S256), which a redirect URI that is not https must (else 400 PKCE_REQUIRED); ' +
      'after the provider, the browser is sent to `redirect_uri?code=…&state=…` with a one-time code (60 seconds) for ' +
      '`POST /auth/oidc/exchange`, or to `redirect_uri?error=…&state=…` when the sign-in failed: `access_denied` (declined at the provider), ' +
      '`provider_error`, `invalid_response` (the provider\'s answer did not verify), `email_not_verified` (the provider vouches for no address, ' +
      'so no account is joined or created) or `temporarily_unavailable`. A callback that cannot be tied to a flow started in that browser ' +
      'ends on a page in words, never on the redirect URI.',
  })
  @ApiParam({ name: 'provider', description: 'A provider id of OIDC_PROVIDERS', example: 'google' })
  @ApiResponse({ status: 302, description: 'To the provider\'s authorization endpoint', headers: { Location: { schema: { type: 'string', format: 'uri' } } } })
  @ApiProblems(
    { 400: ['REDIRECT_URI_NOT_ALLOWED', 'PKCE_REQUIRED', 'VALIDATION_FAILED'], 404: ['NOT_FOUND'], 414: ['URI_TOO_LONG'], 429: ['TOO_MANY_REQUESTS'] },
    { 503: ['PROVIDER_UNAVAILABLE', 'SERVICE_UNAVAILABLE'] },
    SERVER_PROBLEMS,
  )
  async authorize(
    @Param('provider') provider: string,
    @Query() query: OidcAuthorizeQueryDto,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    await this.limits.consume('authPerIp', request.ip);
    const started = await this.signIn.start(provider, this.browser.oidcBinding(request), {
      redirectUri: query.redirect_uri,
      state: query.state,
      codeChallenge: query.code_challenge,
    });
    this.browser.bindOidc(reply, started.browserSecret, OIDC_FLOW_TTL_SECONDS);
    return reply.header('Cache-Control', 'no-store').status(302).redirect(started.url.href);
  }

  private failurePage(reply: FastifyReply, provider: string, error: unknown) {
    const page = (status: number, title: string, message: string) =>
      reply.status(status).header('Cache-Control', 'no-store').view('error', { title, message });
    if (error instanceof UnknownOidcProviderError) return page(404, 'Page not available', 'This page is not available.');
    if (error instanceof OidcProviderUnavailableError) {
      reply.header('Retry-After', '30');
      const label = this.oidc.providers.find((p) => p.id === provider)?.label ?? 'The identity provider';
      return page(503, 'Sign-in unavailable', `We cannot reach ${label} right now. Please try again in a minute, or sign in with your password.`);
    }
    if (error instanceof OidcSignInFailedError) return page(error.reason === 'email_not_verified' ? 403 : 400, 'Sign-in did not work', `${error.message}.`);
    throw error;
  }
}

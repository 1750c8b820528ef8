import { Body, Controller, Header, HttpCode, Post, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OidcSignInService, type SessionMeta } from '@accounts/auth';
import { API_PREFIX } from '../api-prefix.constant';
import { ApiProblems, BODY_PROBLEMS, SERVER_PROBLEMS } from '../http/problem.openapi';
import { OidcExchangeDto } from './dto/oidc.dto';
import { SignedInResponse } from './dto/responses.dto';
import { AuthPerIpLimitGuard, TokenGuessLimitInterceptor } from './rate-limit.guards';
import { ClientMeta } from './request-context.decorators';

/**
 * The JSON end of sign-in through an identity provider for API consumers. The browser part
 * (`GET /auth/oidc/:provider/authorize` and the callback) is in web/oidc-pages.controller.ts.
 */
@ApiTags('auth')
@ApiProblems({ 429: ['TOO_MANY_REQUESTS'], 503: ['SERVICE_UNAVAILABLE'] }, SERVER_PROBLEMS)
@Controller(`${API_PREFIX}/auth/oidc`)
@UseGuards(AuthPerIpLimitGuard)
export class OidcController {
  constructor(private readonly signIn: OidcSignInService) {}

  @Post('exchange')
  @ApiOperation({
    summary: 'Exchange a one-time code from an identity-provider sign-in for a session',
    description:
      'The code comes on the app\'s redirect URI after `GET /auth/oidc/{provider}/authorize`. It lives 60 seconds and works once; ' +
      'when the authorize request sent a PKCE code_challenge, only the matching code_verifier redeems it. Unknown, expired and used codes, ' +
      'a missing, wrong or unexpected code_verifier and another redirect_uri than the authorize request\'s answer alike (400 INVALID_TOKEN, ' +
      'counted as token guesses per IP), and the code is spent.',
  })
  @ApiOkResponse({ type: SignedInResponse, description: 'The login shape; sent with Cache-Control: no-store' })
  @ApiProblems(BODY_PROBLEMS, { 400: ['INVALID_TOKEN'] })
  @UseInterceptors(TokenGuessLimitInterceptor)
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  exchange(@Body() body: OidcExchangeDto, @ClientMeta() meta: SessionMeta) {
    return this.signIn.exchange({ code: body.code, codeVerifier: body.code_verifier, redirectUri: body.redirect_uri }, meta);
  }
}

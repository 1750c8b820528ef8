import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AuthService, JwtAuthGuard, SessionNotFoundError, type Principal, type SessionMeta } from '@accounts/auth';
import { ChangePasswordDto } from './dto/change-password.dto';
import { ConfirmEmailDto } from './dto/confirm-email.dto';
import { EmailDto } from './dto/email.dto';
import { LoginDto } from './dto/login.dto';
import { RefreshTokenDto } from './dto/refresh-token.dto';
import { RegisterDto } from './dto/register.dto';
import { ResetPasswordDto } from './dto/reset-password.dto';
import { AcceptedResponse, ConfirmationRequiredResponse, RegisteredResponse, SessionResponse, SignedInResponse, UserResponse } from './dto/responses.dto';
import { API_PREFIX } from '../api-prefix.constant';
import { BEARER_AUTH } from '../ops/docs/openapi.docs';
import { ApiProblems, BODY_PROBLEMS, SERVER_PROBLEMS } from '../http/problem.openapi';
import { AuthPerIpLimitGuard, TokenGuessLimitInterceptor } from './rate-limit.guards';
import { ClientMeta, CurrentPrincipal } from './request-context.decorators';

const ACCEPTED = { status: 'accepted' } as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Problems every bearer endpoint shares. */
const BEARER_PROBLEMS = { 401: ['UNAUTHENTICATED'] } as const;

@ApiTags('auth')
@ApiProblems({ 429: ['TOO_MANY_REQUESTS'], 503: ['SERVICE_UNAVAILABLE'] }, SERVER_PROBLEMS)
@Controller(`${API_PREFIX}/auth`)
@UseGuards(AuthPerIpLimitGuard)
export class AuthController {
  constructor(
    private readonly auth: AuthService,
  ) {}

  /**
   * 201 with the user when confirmation is off; 202 (for new and taken addresses alike) when on.
   * Both bodies carry `status`, so a client tells them apart by one field.
   */
  @Post('register')
  @ApiOperation({ summary: 'Create an account', description: 'With EMAIL_CONFIRMATION_REQUIRED=true the answer is 202 for new and taken addresses alike, and the address gets an email.' })
  @ApiCreatedResponse({ type: RegisteredResponse, description: 'Confirmation off: the account, ready to sign in' })
  @ApiAcceptedResponse({ type: ConfirmationRequiredResponse, description: 'Confirmation on: check the inbox' })
  @ApiProblems(BODY_PROBLEMS, { 400: ['PASSWORD_TOO_WEAK'], 409: ['EMAIL_TAKEN'] })
  async register(@Body() body: RegisterDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<RegisteredResponse | ConfirmationRequiredResponse> {
    const outcome = await this.auth.register(body);
    if (!('user' in outcome)) {
      reply.status(202);
      return outcome;
    }
    reply.status(201);
    return { status: 'created', user: outcome.user };
  }

  @Post('login')
  @ApiOperation({
    summary: 'Sign in',
    description:
      'Starts a session. Known and unknown addresses answer alike. With MFA on, the right password answers 401 MFA_REQUIRED ' +
      'with an `mfaToken` instead: finish at POST /api/v1/auth/login/mfa.',
  })
  @ApiOkResponse({ type: SignedInResponse, description: 'Sent with Cache-Control: no-store' })
  @ApiProblems(BODY_PROBLEMS, { 401: ['INVALID_CREDENTIALS', 'MFA_REQUIRED'], 403: ['EMAIL_NOT_CONFIRMED'] })
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  login(@Body() body: LoginDto, @ClientMeta() meta: SessionMeta) {
    return this.auth.login(body.email, body.password, meta);
  }

  @Post('refresh')
  @ApiOperation({ summary: 'Rotate a refresh token', description: 'The token given is spent; presenting a spent token ends its whole session.' })
  @ApiOkResponse({ type: SignedInResponse, description: 'Sent with Cache-Control: no-store' })
  @ApiProblems(BODY_PROBLEMS, { 401: ['INVALID_REFRESH_TOKEN'] })
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  refresh(@Body() body: RefreshTokenDto, @ClientMeta() meta: SessionMeta) {
    return this.auth.refresh(body.refreshToken, meta);
  }

  @Post('logout')
  @ApiOperation({ summary: 'End the session of a refresh token', description: 'Also 204 for a token that is unknown or spent.' })
  @ApiNoContentResponse({ description: 'The session has ended' })
  @ApiProblems(BODY_PROBLEMS)
  @HttpCode(204)
  async logout(@Body() body: RefreshTokenDto, @ClientMeta() meta: SessionMeta): Promise<void> {
    await this.auth.logout(body.refreshToken, meta);
  }

  @Get('sessions')
  @ApiBearerAuth(BEARER_AUTH)
  @ApiOperation({ summary: "List the caller's live sessions" })
  @ApiOkResponse({ type: [SessionResponse] })
  @ApiProblems(BEARER_PROBLEMS)
  @UseGuards(JwtAuthGuard)
  listSessions(@CurrentPrincipal() principal: Principal) {
    return this.auth.sessionsOf(principal);
  }

  @Delete('sessions/:id')
  @ApiBearerAuth(BEARER_AUTH)
  @ApiOperation({ summary: 'End one of the caller\'s sessions' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'The session has ended' })
  @ApiProblems(BEARER_PROBLEMS, { 404: ['NOT_FOUND'], 414: ['URI_TOO_LONG'] })
  @UseGuards(JwtAuthGuard)
  @HttpCode(204)
  async revokeSession(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @ClientMeta() meta: SessionMeta): Promise<void> {
    if (!UUID.test(id)) throw new SessionNotFoundError();
    await this.auth.signOutSession(principal, id, meta);
  }

  @Delete('sessions')
  @ApiBearerAuth(BEARER_AUTH)
  @ApiOperation({ summary: 'Sign out everywhere', description: 'Ends every session of the caller, this one included.' })
  @ApiNoContentResponse({ description: 'Every session has ended' })
  @ApiProblems(BEARER_PROBLEMS)
  @UseGuards(JwtAuthGuard)
  @HttpCode(204)
  async revokeAllSessions(@CurrentPrincipal() principal: Principal, @ClientMeta() meta: SessionMeta): Promise<void> {
    await this.auth.signOutEverywhere(principal, meta);
  }

  @Post('email/confirm')
  @ApiOperation({
    summary: 'Confirm an email address with the emailed token',
    description:
      'Activates the password the link carries (the registration that produced it) and ends every earlier session of the account. ' +
      'A link sent by `email/resend` carries no password: `password` is then required (400 VALIDATION_FAILED naming the field when missing) ' +
      'and becomes the account\'s password; a weak one is refused with 400 PASSWORD_TOO_WEAK and leaves the token unspent. ' +
      'For a link that carries a password, a `password` field is refused with 400 VALIDATION_FAILED.',
  })
  @ApiOkResponse({ type: UserResponse, description: 'The address is confirmed' })
  @ApiProblems(BODY_PROBLEMS, { 400: ['INVALID_TOKEN', 'PASSWORD_TOO_WEAK'] })
  @UseInterceptors(TokenGuessLimitInterceptor)
  @HttpCode(200)
  async confirmEmail(@Body() body: ConfirmEmailDto) {
    return { user: await this.auth.confirmEmail(body.token, body.password ?? undefined) };
  }

  @Post('email/resend')
  @ApiOperation({ summary: 'Send a fresh confirmation link', description: 'Always 202; only unconfirmed accounts get an email.' })
  @ApiAcceptedResponse({ type: AcceptedResponse })
  @ApiProblems(BODY_PROBLEMS)
  @HttpCode(202)
  async resendConfirmation(@Body() body: EmailDto) {
    await this.auth.resendConfirmation(body.email);
    return ACCEPTED;
  }

  @Post('password/forgot')
  @ApiOperation({ summary: 'Email a password reset link', description: 'Always 202; only known addresses get an email.' })
  @ApiAcceptedResponse({ type: AcceptedResponse })
  @ApiProblems(BODY_PROBLEMS)
  @HttpCode(202)
  async forgotPassword(@Body() body: EmailDto) {
    await this.auth.forgotPassword(body.email);
    return ACCEPTED;
  }

  @Post('password/reset')
  @ApiOperation({ summary: 'Set a new password with the emailed token', description: 'Ends every session of the account; a weak password leaves the token unspent.' })
  @ApiNoContentResponse({ description: 'The password is changed; sign in with it' })
  @ApiProblems(BODY_PROBLEMS, { 400: ['INVALID_TOKEN', 'PASSWORD_TOO_WEAK'] })
  @UseInterceptors(TokenGuessLimitInterceptor)
  @HttpCode(204)
  async resetPassword(@Body() body: ResetPasswordDto, @ClientMeta() meta: SessionMeta): Promise<void> {
    await this.auth.resetPassword(body.token, body.password, meta);
  }

  @Post('password/change')
  @ApiBearerAuth(BEARER_AUTH)
  @ApiOperation({ summary: 'Change the password while signed in', description: "Ends the caller's other sessions." })
  @ApiNoContentResponse({ description: 'The password is changed' })
  @ApiProblems(BODY_PROBLEMS, BEARER_PROBLEMS, { 400: ['INVALID_CREDENTIALS', 'PASSWORD_TOO_WEAK'] })
  @UseGuards(JwtAuthGuard)
  @HttpCode(204)
  async changePassword(@CurrentPrincipal() principal: Principal, @Body() body: ChangePasswordDto, @ClientMeta() meta: SessionMeta): Promise<void> {
    await this.auth.changePassword(principal, body.currentPassword, body.newPassword, meta);
  }
}

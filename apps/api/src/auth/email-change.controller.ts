import { Body, Controller, HttpCode, Post, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EmailChangeService, JwtAuthGuard, type Principal, type SessionMeta } from '@accounts/auth';
import { API_PREFIX } from '../api-prefix.constant';
import { ApiProblems, BODY_PROBLEMS, SERVER_PROBLEMS } from '../http/problem.openapi';
import { BEARER_AUTH } from '../ops/docs/openapi.docs';
import { EmailChangeTokenDto, RequestEmailChangeDto } from './dto/email-change.dto';
import { REAUTHENTICATION_PROBLEMS, REAUTHENTICATION_RULE } from './dto/field-rules.decorators';
import { AcceptedResponse, UserResponse } from './dto/responses.dto';
import { AuthPerIpLimitGuard, TokenGuessLimitInterceptor } from './rate-limit.guards';
import { ClientMeta, CurrentPrincipal } from './request-context.decorators';

/** Email change with undo (SPEC §10): the request under /users/me, the two links under /auth. */
@ApiProblems({ 503: ['SERVICE_UNAVAILABLE'] }, SERVER_PROBLEMS)
@Controller(API_PREFIX)
export class EmailChangeController {
  constructor(private readonly emailChange: EmailChangeService) {}

  @Post('users/me/email')
  @ApiTags('users')
  @ApiBearerAuth(BEARER_AUTH)
  @ApiOperation({
    summary: 'Ask to change the email address',
    description:
      'The new address is mailed a confirmation link (EMAIL_CHANGE_TOKEN_TTL); nothing changes until it is used. ' +
      'A taken address answers the same 202 and its owner is mailed a notice without a link. ' +
      'Refused with 400 VALIDATION_FAILED for the address the account already has. ' +
      'Counted per account (RATE_LIMIT_EMAIL_CHANGE_PER_ACCOUNT) and per new address (RATE_LIMIT_MAIL_PER_ADDRESS: above it no mail, same answer). ' +
      REAUTHENTICATION_RULE,
  })
  @ApiAcceptedResponse({ type: AcceptedResponse, description: 'For free and taken addresses alike' })
  @ApiProblems(BODY_PROBLEMS, REAUTHENTICATION_PROBLEMS, { 401: ['UNAUTHENTICATED'], 429: ['TOO_MANY_REQUESTS'] })
  @UseGuards(JwtAuthGuard)
  @HttpCode(202)
  async request(@CurrentPrincipal() principal: Principal, @Body() body: RequestEmailChangeDto, @ClientMeta() meta: SessionMeta): Promise<AcceptedResponse> {
    await this.emailChange.request(principal, body.newEmail, body.currentPassword, meta);
    return { status: 'accepted' };
  }

  @Post('auth/email/change/confirm')
  @ApiTags('auth')
  @ApiOperation({
    summary: 'Confirm an email change with the token mailed to the new address',
    description:
      'Switches the account to the new address (confirmed), keeps the password and every session, and mails the old address an undo link (EMAIL_CHANGE_UNDO_TTL). ' +
      '409 EMAIL_TAKEN when the address was registered meanwhile; the link stays unused.',
  })
  @ApiOkResponse({ type: UserResponse, description: 'The account with its new address' })
  @ApiProblems(BODY_PROBLEMS, { 400: ['INVALID_TOKEN'], 409: ['EMAIL_TAKEN'], 429: ['TOO_MANY_REQUESTS'] })
  @UseGuards(AuthPerIpLimitGuard)
  @UseInterceptors(TokenGuessLimitInterceptor)
  @HttpCode(200)
  async confirm(@Body() body: EmailChangeTokenDto, @ClientMeta() meta: SessionMeta): Promise<UserResponse> {
    return { user: await this.emailChange.confirm(body.token, meta) };
  }

  @Post('auth/email/change/undo')
  @ApiTags('auth')
  @ApiOperation({
    summary: 'Undo an email change with the token mailed to the old address',
    description:
      'Restores the old address, ends every session, spends every outstanding token, makes the password unusable and mails the old address a password reset link. ' +
      'An account that registered the old address meanwhile without confirming it is deleted; 409 EMAIL_TAKEN when a confirmed account holds it (the link stays unused).',
  })
  @ApiNoContentResponse({ description: 'The change is undone; choose a new password with the mailed link' })
  @ApiProblems(BODY_PROBLEMS, { 400: ['INVALID_TOKEN'], 409: ['EMAIL_TAKEN'], 429: ['TOO_MANY_REQUESTS'] })
  @UseGuards(AuthPerIpLimitGuard)
  @UseInterceptors(TokenGuessLimitInterceptor)
  @HttpCode(204)
  async undo(@Body() body: EmailChangeTokenDto, @ClientMeta() meta: SessionMeta): Promise<void> {
    await this.emailChange.undo(body.token, meta);
  }
}

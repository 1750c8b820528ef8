import { Body, Controller, Delete, Header, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthService, JwtAuthGuard, MfaService, type MfaProof, type Principal, type SessionMeta } from '@accounts/auth';
import { API_PREFIX } from '../api-prefix.constant';
import { ApiProblems, BODY_PROBLEMS, SERVER_PROBLEMS } from '../http/problem.openapi';
import { ValidationFailedException } from '../http/problem.document';
import { BEARER_AUTH } from '../ops/docs/openapi.docs';
import { REAUTHENTICATION_PROBLEMS, REAUTHENTICATION_RULE } from './dto/field-rules.decorators';
import { LoginMfaDto, MfaEnableDto, MfaReauthenticationDto, MfaSetupDto, RecoveryCodesResponse, TotpSetupResponse } from './dto/mfa.dto';
import { SignedInResponse } from './dto/responses.dto';
import { AuthPerIpLimitGuard } from './rate-limit.guards';
import { ClientMeta, CurrentPrincipal } from './request-context.decorators';

const BEARER_PROBLEMS = { 401: ['UNAUTHENTICATED'] } as const;

/** Exactly one of the two proofs; anything else is a malformed request, named by field. */
function proofOf(body: LoginMfaDto): MfaProof {
  if (body.code !== undefined && body.recoveryCode === undefined) return { code: body.code };
  if (body.recoveryCode !== undefined && body.code === undefined) return { recoveryCode: body.recoveryCode };
  const message = 'send either code or recoveryCode, not both';
  throw new ValidationFailedException([{ field: 'code', message }, { field: 'recoveryCode', message }]);
}

/** Multi-factor authentication (SPEC §11): the TOTP settings of the caller and a sign-in's second step. */
@ApiTags('mfa')
@ApiProblems({ 429: ['TOO_MANY_REQUESTS'], 503: ['SERVICE_UNAVAILABLE'] }, SERVER_PROBLEMS)
@Controller(`${API_PREFIX}/auth`)
@UseGuards(AuthPerIpLimitGuard)
export class MfaController {
  constructor(
    private readonly auth: AuthService,
    private readonly mfa: MfaService,
  ) {}

  @Post('mfa/totp/setup')
  @ApiBearerAuth(BEARER_AUTH)
  @ApiOperation({
    summary: 'Start setting up TOTP',
    description: `Returns a new secret, pending until \`enable\` sees a code of it; a new setup replaces a pending one. Sent with Cache-Control: no-store. Refused (403 EMAIL_NOT_CONFIRMED) until the account's address is confirmed. ${REAUTHENTICATION_RULE}`,
  })
  @ApiOkResponse({ type: TotpSetupResponse })
  @ApiProblems(BODY_PROBLEMS, BEARER_PROBLEMS, REAUTHENTICATION_PROBLEMS, { 403: ['EMAIL_NOT_CONFIRMED'], 409: ['MFA_ALREADY_ENABLED'] })
  @UseGuards(JwtAuthGuard)
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  setup(@CurrentPrincipal() principal: Principal, @Body() body: MfaSetupDto) {
    return this.mfa.beginTotpSetup(principal, body.currentPassword);
  }

  @Post('mfa/totp/enable')
  @ApiBearerAuth(BEARER_AUTH)
  @ApiOperation({
    summary: 'Turn TOTP on with a first code',
    description:
      'Returns the 10 recovery codes, shown this once (only digests are stored). Wrong codes count against RATE_LIMIT_MFA_PER_ACCOUNT. ' +
      'Every other session of the user ends (the caller\'s stays). Refused (403 EMAIL_NOT_CONFIRMED) until the address is confirmed.',
  })
  @ApiOkResponse({ type: RecoveryCodesResponse, description: 'Sent with Cache-Control: no-store' })
  @ApiProblems(BODY_PROBLEMS, BEARER_PROBLEMS, { 400: ['INVALID_MFA_CODE'], 403: ['EMAIL_NOT_CONFIRMED'], 409: ['MFA_ALREADY_ENABLED', 'MFA_SETUP_REQUIRED'] })
  @UseGuards(JwtAuthGuard)
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async enable(@CurrentPrincipal() principal: Principal, @Body() body: MfaEnableDto, @ClientMeta() meta: SessionMeta) {
    return { recoveryCodes: await this.mfa.enableTotp(principal, body.code, meta) };
  }

  @Delete('mfa/totp')
  @ApiBearerAuth(BEARER_AUTH)
  @ApiOperation({ summary: 'Turn TOTP off', description: `Needs re-authentication and a TOTP code or an unused recovery code; the recovery codes go too. ${REAUTHENTICATION_RULE}` })
  @ApiNoContentResponse({ description: 'MFA is off' })
  @ApiProblems(BODY_PROBLEMS, BEARER_PROBLEMS, REAUTHENTICATION_PROBLEMS, { 400: ['INVALID_MFA_CODE'], 409: ['MFA_NOT_ENABLED'] })
  @UseGuards(JwtAuthGuard)
  @HttpCode(204)
  async disable(@CurrentPrincipal() principal: Principal, @Body() body: MfaReauthenticationDto, @ClientMeta() meta: SessionMeta): Promise<void> {
    await this.mfa.disableTotp(principal, body.currentPassword, body.code, meta);
  }

  @Post('mfa/recovery-codes')
  @ApiBearerAuth(BEARER_AUTH)
  @ApiOperation({ summary: 'Replace the recovery codes', description: `Needs re-authentication and a TOTP code or an unused recovery code; the old set stops working. ${REAUTHENTICATION_RULE}` })
  @ApiOkResponse({ type: RecoveryCodesResponse, description: 'Sent with Cache-Control: no-store' })
  @ApiProblems(BODY_PROBLEMS, BEARER_PROBLEMS, REAUTHENTICATION_PROBLEMS, { 400: ['INVALID_MFA_CODE'], 409: ['MFA_NOT_ENABLED'] })
  @UseGuards(JwtAuthGuard)
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async regenerateRecoveryCodes(@CurrentPrincipal() principal: Principal, @Body() body: MfaReauthenticationDto, @ClientMeta() meta: SessionMeta) {
    return { recoveryCodes: await this.mfa.regenerateRecoveryCodes(principal, body.currentPassword, body.code, meta) };
  }

  @Post('login/mfa')
  @ApiOperation({
    summary: 'Finish a sign-in with its second factor',
    description:
      'The `mfaToken` of the MFA_REQUIRED answer to /auth/login and either a TOTP `code` or a `recoveryCode`. ' +
      'Each call spends one of the token\'s 5 attempts; the token dies after 5 minutes and with the sign-in it completes. ' +
      'Wrong codes also count against RATE_LIMIT_MFA_PER_ACCOUNT.',
  })
  @ApiOkResponse({ type: SignedInResponse, description: 'Sent with Cache-Control: no-store' })
  @ApiProblems(BODY_PROBLEMS, { 400: ['INVALID_MFA_CODE'], 401: ['INVALID_MFA_TOKEN'] })
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  loginMfa(@Body() body: LoginMfaDto, @ClientMeta() meta: SessionMeta) {
    return this.auth.completeMfaSignIn(body.mfaToken, proofOf(body), meta);
  }
}

import { Body, Controller, Get, HttpCode, Post, Req, Res, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  AuthService,
  EmailNotConfirmedError,
  InvalidMfaCodeError,
  InvalidMfaTokenError,
  MfaAlreadyEnabledError,
  MfaNotEnabledError,
  MfaService,
  MfaSetupRequiredError,
  ReauthenticationRequiredError,
  TooManyRequestsError,
  WrongCurrentPasswordError,
  type BrowserSession,
  type Principal,
} from '@accounts/auth';
import { clientMeta } from '../auth/request-context.decorators';
import { BrowserSessions } from './browser-sessions.service';
import { FormGuard, SignedInFormGuard } from './form.guards';
import { MfaSecondStepPage } from './mfa-second-step.page';
import { NoStorePages } from './no-store-pages.interceptor';
import { PageErrorsFilter } from './page-errors.filter';
import { currentPasswordOf, ReauthenticationView, SIGN_IN_AGAIN } from './reauthentication.view';
import { field, retryDelayInWords, type Form } from './page-form.util';

type FieldErrors = Record<string, string>;

const WRONG_CODE = 'That code is incorrect or was already used. Wait for the next code and try again.';

function tooMany(reply: FastifyReply, error: TooManyRequestsError, what = 'wrong codes'): string {
  reply.header('Retry-After', String(error.retryAfterSeconds));
  return `Too many ${what}. Try again in ${retryDelayInWords(error)}.`;
}

function principalOf(current: BrowserSession): Principal {
  return { userId: current.user.id, sessionId: current.session.id };
}

/** `ABCD EFGH …`: the secret in groups of four, easier to type by hand. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

/**
 * Two-step sign-in in the pages (SPEC §11): the second step of `/login`, and `/account/mfa` to set
 * it up (QR code as inline SVG and the key for manual entry), see the recovery codes once, make new
 * ones and turn it off. Same services and limits as the JSON API; every form carries CSRF and
 * works with JavaScript off.
 */
@Controller()
@UseFilters(PageErrorsFilter)
@UseInterceptors(NoStorePages)
export class MfaPagesController {
  constructor(
    private readonly auth: AuthService,
    private readonly mfa: MfaService,
    private readonly browser: BrowserSessions,
    private readonly secondStep: MfaSecondStepPage,
    private readonly reauthentication: ReauthenticationView,
  ) {}

  @Post('login/mfa')
  @UseGuards(FormGuard)
  @HttpCode(200)
  async loginMfa(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const mfaToken = field(form, 'mfaToken');
    const recoveryCode = field(form, 'recoveryCode').trim();
    const code = field(form, 'code').replace(/\s/g, '');
    const errorField = recoveryCode ? 'recoveryCode' : 'code';
    if (!mfaToken || mfaToken.length > 512) return this.expired(request, reply);
    if (!code && !recoveryCode) return this.secondStep.render(request, reply, mfaToken, { status: 400, error: 'Enter the code from your authenticator app, or a recovery code.', errorField });
    try {
      const signedIn = await this.auth.completeMfaSignIn(mfaToken, recoveryCode ? { recoveryCode: recoveryCode.slice(0, 64) } : { code: code.slice(0, 64) }, clientMeta(request));
      await this.browser.start(reply, signedIn);
      return reply.status(303).redirect('/account');
    } catch (error) {
      if (error instanceof InvalidMfaTokenError) return this.expired(request, reply);
      if (error instanceof InvalidMfaCodeError) return this.secondStep.render(request, reply, mfaToken, { status: 400, error: WRONG_CODE, errorField });
      if (error instanceof TooManyRequestsError) return this.secondStep.render(request, reply, mfaToken, { status: 429, error: tooMany(reply, error), errorField });
      throw error;
    }
  }

  @Get('account/mfa')
  async settingsPage(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const current = await this.browser.current(request, reply);
    if (!current) return reply.status(303).redirect('/login');
    return this.renderSettings(request, reply, current, 200, {});
  }

  @Post('account/mfa/setup')
  @UseGuards(SignedInFormGuard)
  @HttpCode(200)
  async setup(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const current = await this.browser.current(request, reply);
    if (!current) return reply.status(303).redirect('/login');
    const fail = (status: number, message: string) => this.renderSettings(request, reply, current, status, { errors: { setup: { currentPassword: message } } });
    const { currentPassword, missing } = currentPasswordOf(form, current);
    if (missing) return fail(400, 'Enter your current password');
    try {
      const setup = await this.mfa.beginTotpSetup(principalOf(current), currentPassword);
      return this.renderSetup(request, reply, current, 200, setup);
    } catch (error) {
      if (error instanceof WrongCurrentPasswordError) return fail(400, error.message);
      if (error instanceof ReauthenticationRequiredError) return fail(401, SIGN_IN_AGAIN);
      if (error instanceof MfaAlreadyEnabledError) return this.renderSettings(request, reply, current, 409, { notice: error.message });
      if (error instanceof EmailNotConfirmedError) return this.renderSettings(request, reply, current, 403, {});
      if (error instanceof TooManyRequestsError) return fail(429, tooMany(reply, error, 'attempts'));
      throw error;
    }
  }

  @Post('account/mfa/enable')
  @UseGuards(SignedInFormGuard)
  @HttpCode(200)
  async enable(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const current = await this.browser.current(request, reply);
    if (!current) return reply.status(303).redirect('/login');
    // The key is not shown again: only the password that started the setup reveals it.
    const again = (status: number, error: string) => this.renderSetup(request, reply, current, status, undefined, error);
    const code = field(form, 'code').replace(/\s/g, '');
    if (!code) return again(400, 'Enter the 6-digit code your authenticator app shows.');
    try {
      const recoveryCodes = await this.mfa.enableTotp(principalOf(current), code.slice(0, 64), clientMeta(request));
      return reply.view('mfa-recovery-codes', { title: 'Your recovery codes', recoveryCodes, enabled: true });
    } catch (error) {
      if (error instanceof InvalidMfaCodeError) return again(400, WRONG_CODE);
      if (error instanceof TooManyRequestsError) return again(429, tooMany(reply, error));
      if (error instanceof MfaAlreadyEnabledError || error instanceof MfaSetupRequiredError) return this.renderSettings(request, reply, current, 409, {});
      if (error instanceof EmailNotConfirmedError) return this.renderSettings(request, reply, current, 403, {});
      throw error;
    }
  }

  @Post('account/mfa/recovery-codes')
  @UseGuards(SignedInFormGuard)
  @HttpCode(200)
  async regenerate(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.reauthenticatedChange(form, request, reply, 'recovery', async (current, currentPassword, code) => {
      const recoveryCodes = await this.mfa.regenerateRecoveryCodes(principalOf(current), currentPassword, code, clientMeta(request));
      return reply.view('mfa-recovery-codes', { title: 'Your recovery codes', recoveryCodes });
    });
  }

  @Post('account/mfa/disable')
  @UseGuards(SignedInFormGuard)
  @HttpCode(200)
  async disable(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.reauthenticatedChange(form, request, reply, 'disable', async (current, currentPassword, code) => {
      await this.mfa.disableTotp(principalOf(current), currentPassword, code, clientMeta(request));
      return this.renderSettings(request, reply, current, 200, { mfaEnabled: false, notice: 'Two-step sign-in is off.' });
    });
  }

  /** The forms that need the password and a code: checked here, errors next to their fields. */
  private async reauthenticatedChange(
    form: Form,
    request: FastifyRequest,
    reply: FastifyReply,
    which: 'recovery' | 'disable',
    change: (current: BrowserSession, currentPassword: string | undefined, code: string) => Promise<unknown>,
  ) {
    const current = await this.browser.current(request, reply);
    if (!current) return reply.status(303).redirect('/login');
    const fail = (status: number, errors: FieldErrors) => this.renderSettings(request, reply, current, status, { errors: { [which]: errors } });
    const { currentPassword, missing: noPassword } = currentPasswordOf(form, current);
    const code = field(form, 'code').trim();
    const missing: FieldErrors = {};
    if (noPassword) missing.currentPassword = 'Enter your current password';
    if (!code || code.length > 64) missing.code = 'Enter a code from your authenticator app, or a recovery code';
    if (Object.keys(missing).length) return fail(400, missing);
    try {
      return await change(current, currentPassword, code);
    } catch (error) {
      if (error instanceof WrongCurrentPasswordError) return fail(400, { currentPassword: error.message });
      if (error instanceof ReauthenticationRequiredError) return fail(401, { currentPassword: SIGN_IN_AGAIN });
      if (error instanceof InvalidMfaCodeError) return fail(400, { code: WRONG_CODE });
      // The password and the code have limits of their own; either may be the one used up.
      if (error instanceof TooManyRequestsError) return fail(429, { code: tooMany(reply, error, 'attempts') });
      if (error instanceof MfaNotEnabledError) return this.renderSettings(request, reply, current, 409, { notice: error.message });
      throw error;
    }
  }

  /** Back to sign-in: the second step's token is gone (used, expired, out of attempts, or forged). */
  private expired(request: FastifyRequest, reply: FastifyReply) {
    return reply.status(401).view('login', {
      title: 'Sign in',
      csrf: this.browser.csrfToken(request, reply),
      error: 'This sign-in has expired or was already used. Please sign in again.',
    });
  }

  private async renderSettings(request: FastifyRequest, reply: FastifyReply, current: BrowserSession, status: number, data: Record<string, unknown>) {
    return reply.status(status).view('mfa', {
      title: 'Two-step sign-in',
      mfaEnabled: current.user.mfaEnabledAt !== null,
      emailConfirmed: current.user.emailConfirmed,
      reauth: await this.reauthentication.of(current),
      csrf: this.browser.csrfToken(request, reply, current.session),
      ...data,
    });
  }

  private renderSetup(
    request: FastifyRequest,
    reply: FastifyReply,
    current: BrowserSession,
    status: number,
    setup: { secret: string; qrSvg: string } | undefined,
    error?: string,
  ) {
    return reply.status(status).view('mfa-setup', {
      title: 'Set up two-step sign-in',
      qrSvg: setup?.qrSvg,
      secretGroups: setup && grouped(setup.secret),
      csrf: this.browser.csrfToken(request, reply, current.session),
      error,
    });
  }
}

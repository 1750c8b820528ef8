import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  AuthenticationRequiredError,
  AuthService,
  EmailChangeService,
  EmailNotConfirmedError,
  EmailTakenError,
  IdentitiesService,
  IdentityNotFoundError,
  InvalidCredentialsError,
  InvalidRefreshTokenError,
  MfaRequiredError,
  LastSignInMethodError,
  OidcClient,
  PasswordTooWeakError,
  ReauthenticationRequiredError,
  SameEmailError,
  TooManyRequestsError,
  type BrowserSession,
  WrongCurrentPasswordError,
} from '@accounts/auth';
import { authConfig } from '@accounts/config';
import { RequestEmailChangeDto } from '../auth/dto/email-change.dto';
import { AccountActivityService } from '@accounts/users';
import { LoginDto } from '../auth/dto/login.dto';
import { clientMeta } from '../auth/request-context.decorators';
import { RegisterDto } from '../auth/dto/register.dto';
import { activityInWords } from './activity-in-words';
import { PageErrorsFilter } from './page-errors.filter';
import { BrowserSessions } from './browser-sessions.service';
import { FormGuard, SignedInFormGuard } from './form.guards';
import { MfaSecondStepPage } from './mfa-second-step.page';
import { NoStorePages } from './no-store-pages.interceptor';
import { currentPasswordOf, ReauthenticationView, SIGN_IN_AGAIN } from './reauthentication.view';
import { checkForm, field, retryDelayInWords, type FieldErrors, type Form } from './page-form.util';


/** How much of the activity record /account shows; the rest is in the export and the API. */
const RECENT_ACTIVITY_ROWS = 10;

function retryMessage(error: TooManyRequestsError): string {
  return `Too many attempts. Try again in ${retryDelayInWords(error)}, or reset your password.`;
}

/**
 * Sign-in, registration and the account page, on the same services as the JSON API and under
 * the same rules (limits, enumeration, password policy). Every POST carries a CSRF token.
 */
@Controller()
@UseFilters(PageErrorsFilter)
@UseInterceptors(NoStorePages)
export class AccountPagesController {
  constructor(
    private readonly auth: AuthService,
    private readonly browser: BrowserSessions,
    private readonly emailChange: EmailChangeService,
    private readonly activity: AccountActivityService,
    private readonly mfaSecondStep: MfaSecondStepPage,
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
    private readonly oidc: OidcClient,
    private readonly identities: IdentitiesService,
    private readonly reauthentication: ReauthenticationView,
  ) {}

  @Get('login')
  async loginPage(@Query('reset') reset: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (await this.browser.current(request, reply)) return reply.status(303).redirect('/account');
    return this.renderLogin(request, reply, 200, { passwordUpdated: reset === '1' });
  }

  @Post('login')
  @UseGuards(FormGuard)
  @HttpCode(200)
  async login(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const email = field(form, 'email');
    const { value, errors } = await checkForm(LoginDto, { email, password: field(form, 'password') });
    if (Object.keys(errors).length) return this.renderLogin(request, reply, 400, { email, errors });
    try {
      const signedIn = await this.auth.login(value.email, value.password, clientMeta(request));
      await this.browser.start(reply, signedIn);
      return reply.status(303).redirect('/account');
    } catch (error) {
      if (error instanceof MfaRequiredError) return this.mfaSecondStep.render(request, reply, error.mfaToken);
      if (error instanceof InvalidCredentialsError) return this.renderLogin(request, reply, 401, { email, error: `${error.message}.` });
      // The account was deleted between the sign-in and the browser taking over its session.
      if (error instanceof InvalidRefreshTokenError) return this.renderLogin(request, reply, 401, { email, error: `${new InvalidCredentialsError().message}.` });
      if (error instanceof EmailNotConfirmedError) {
        return this.renderLogin(request, reply, 403, { email, error: `${error.message}. We can send you a new link.`, unconfirmed: true });
      }
      if (error instanceof TooManyRequestsError) {
        reply.header('Retry-After', String(error.retryAfterSeconds));
        return this.renderLogin(request, reply, 429, { email, error: retryMessage(error) });
      }
      throw error;
    }
  }

  @Get('register')
  registerPage(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.renderRegister(request, reply, 200, {});
  }

  @Post('register')
  @UseGuards(FormGuard)
  @HttpCode(200)
  async register(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const fields = { email: field(form, 'email'), password: field(form, 'password'), ...(field(form, 'name') ? { name: field(form, 'name') } : {}) };
    const { value, errors } = await checkForm(RegisterDto, fields);
    if (!errors.password && fields.password !== field(form, 'passwordConfirm')) errors.passwordConfirm = 'The two passwords do not match';
    const shown = { email: fields.email, name: fields.name ?? '' };
    if (Object.keys(errors).length) return this.renderRegister(request, reply, 400, { ...shown, errors });
    try {
      const outcome = await this.auth.register(value);
      if (!('user' in outcome)) return reply.view('check-inbox', { title: 'Check your inbox', confirmation: true });
      const signedIn = await this.auth.login(value.email, value.password, clientMeta(request));
      await this.browser.start(reply, signedIn);
      return reply.status(303).redirect('/account');
    } catch (error) {
      if (error instanceof PasswordTooWeakError) return this.renderRegister(request, reply, 400, { ...shown, errors: { password: error.message } });
      if (error instanceof EmailTakenError) return this.renderRegister(request, reply, 409, { ...shown, errors: { email: error.message } });
      throw error;
    }
  }

  @Get('account')
  async accountPage(
    @Query('changed') changed: unknown,
    @Query('sent') sent: unknown,
    @Query('named') named: unknown,
    @Query('unlinked') unlinked: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const current = await this.browser.current(request, reply);
    if (!current) return reply.status(303).redirect('/login');
    return this.renderAccount(request, reply, current, 200, {
      passwordChanged: changed === '1',
      confirmationSent: sent === '1',
      nameSaved: named === '1',
      identityUnlinked: unlinked === '1',
    });
  }

  /**
   * A fresh confirmation link for the signed-in user's own unconfirmed address (the same limits as
   * the API's resend). Like every resent link it carries no password: confirming asks for one, and
   * re-entering the current one keeps this browser signed in.
   */
  @Post('account/confirmation')
  @UseGuards(SignedInFormGuard)
  async resendConfirmation(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const current = await this.browser.current(request, reply);
    if (!current) return reply.status(303).redirect('/login');
    await this.auth.resendConfirmation(current.user.email);
    return reply.status(303).redirect('/account?sent=1');
  }

  @Post('account/password')
  @UseGuards(SignedInFormGuard)
  @HttpCode(200)
  async changePassword(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const current = await this.browser.current(request, reply);
    if (!current) return reply.status(303).redirect('/login');
    const newPassword = field(form, 'newPassword');
    const fail = (status: number, errors: FieldErrors) => this.renderAccount(request, reply, current, status, { errors });
    if (!field(form, 'currentPassword')) return fail(400, { currentPassword: 'Enter your current password' });
    if (newPassword !== field(form, 'passwordConfirm')) return fail(400, { passwordConfirm: 'The two passwords do not match' });
    try {
      await this.auth.changePassword({ userId: current.user.id, sessionId: current.session.id }, field(form, 'currentPassword'), newPassword, clientMeta(request));
    } catch (error) {
      // The session ended (or the password changed) after the guard read it.
      if (error instanceof AuthenticationRequiredError) return reply.status(303).redirect('/login');
      if (error instanceof WrongCurrentPasswordError) return fail(400, { currentPassword: error.message });
      if (error instanceof PasswordTooWeakError) return fail(400, { newPassword: error.message });
      if (error instanceof TooManyRequestsError) {
        // Counted per account, not per network: said next to the field, the form kept.
        reply.header('Retry-After', String(error.retryAfterSeconds));
        return fail(429, { currentPassword: retryMessage(error) });
      }
      throw error;
    }
    // The session stays (SPEC), but not a cookie copied from it: only this browser's new one works.
    await this.browser.reissue(reply, current.session);
    return reply.status(303).redirect('/account?changed=1');
  }

  /**
   * Asks to move the account to a new address (SPEC §10). Free and taken addresses get the same
   * page, as they get the same 202 from the API.
   */
  @Post('account/email')
  @UseGuards(SignedInFormGuard)
  @HttpCode(200)
  async changeEmail(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const current = await this.browser.current(request, reply);
    if (!current) return reply.status(303).redirect('/login');
    const { currentPassword, missing } = currentPasswordOf(form, current);
    // Left out when empty: an account without a password sends none.
    const fields = { newEmail: field(form, 'newEmail'), ...(currentPassword === undefined ? {} : { currentPassword }) };
    const shown = (status: number, errors: FieldErrors) => this.renderAccount(request, reply, current, status, { emailChange: { value: fields.newEmail, errors } });
    const { value, errors } = await checkForm(RequestEmailChangeDto, fields);
    if (errors.newEmail) errors.newEmail = 'Enter an email address, such as ada@example.com';
    if (errors.currentPassword || missing) errors.currentPassword = 'Enter your current password';
    if (Object.keys(errors).length) return shown(400, errors);
    try {
      await this.emailChange.request({ userId: current.user.id, sessionId: current.session.id }, value.newEmail, value.currentPassword, clientMeta(request));
    } catch (error) {
      if (error instanceof AuthenticationRequiredError) return reply.status(303).redirect('/login');
      if (error instanceof SameEmailError) return shown(400, { newEmail: error.message });
      if (error instanceof WrongCurrentPasswordError) return shown(400, { currentPassword: error.message });
      if (error instanceof ReauthenticationRequiredError) return shown(401, { currentPassword: SIGN_IN_AGAIN });
      if (error instanceof TooManyRequestsError) {
        reply.header('Retry-After', String(error.retryAfterSeconds));
        return shown(429, { newEmail: `Too many attempts. Try again in ${retryDelayInWords(error)}.` });
      }
      throw error;
    }
    return this.renderAccount(request, reply, current, 200, { emailChange: { requested: true, newEmail: value.newEmail } });
  }

  /** Unlinks one of the signed-in user's identities; never the last way to sign in (said in words). */
  @Post('account/identities/:id/unlink')
  @UseGuards(SignedInFormGuard)
  @HttpCode(200)
  async unlinkIdentity(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const current = await this.browser.current(request, reply);
    if (!current) return reply.status(303).redirect('/login');
    try {
      await this.identities.unlink(current.user.id, id, clientMeta(request));
    } catch (error) {
      if (error instanceof LastSignInMethodError) return this.renderAccount(request, reply, current, 409, { identityError: error.message });
      if (error instanceof IdentityNotFoundError) return this.renderAccount(request, reply, current, 404, { identityError: 'This sign-in is no longer linked to your account.' });
      throw error;
    }
    return reply.status(303).redirect('/account?unlinked=1');
  }

  @Post('account/sign-out-everywhere')
  @UseGuards(SignedInFormGuard)
  async signOutEverywhere(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const current = await this.browser.current(request, reply);
    if (current) await this.auth.signOutEverywhere({ userId: current.user.id, sessionId: current.session.id }, clientMeta(request));
    await this.browser.end(request, reply);
    return reply.status(303).redirect('/login');
  }

  @Post('logout')
  @UseGuards(SignedInFormGuard)
  async logout(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.browser.end(request, reply);
    return reply.status(303).redirect('/login');
  }

  private renderLogin(request: FastifyRequest, reply: FastifyReply, status: number, data: Record<string, unknown>) {
    return reply.status(status).view('login', { title: 'Sign in', csrf: this.browser.csrfToken(request, reply), providers: this.oidc.providers, ...data });
  }

  private renderRegister(request: FastifyRequest, reply: FastifyReply, status: number, data: Record<string, unknown>) {
    return reply.status(status).view('register', {
      title: 'Create your account',
      passwordMinLength: this.config.passwordMinLength,
      csrf: this.browser.csrfToken(request, reply),
      providers: this.oidc.providers,
      ...data,
    });
  }

  private async renderAccount(
    request: FastifyRequest,
    reply: FastifyReply,
    current: BrowserSession,
    status: number,
    data: Record<string, unknown>,
  ) {
    const sessions = await this.auth.sessionsOf({ userId: current.user.id, sessionId: current.session.id });
    const activity = await this.activity.page(current.user.id, { limit: RECENT_ACTIVITY_ROWS });
    const identities = await this.identities.list(current.user.id);
    return reply.status(status).view('account', {
      title: 'Your account',
      user: {
        email: current.user.email,
        name: current.user.name,
        emailConfirmed: current.user.emailConfirmed,
        mfaEnabled: current.user.mfaEnabledAt !== null,
        hasPassword: current.user.passwordHash !== null,
      },
      reauth: await this.reauthentication.of(current),
      identities: identities.map((identity) => ({ ...identity, label: identity.provider?.label ?? identity.issuer, linked: identity.createdAt.slice(0, 10) })),
      sessions: sessions.map((s) => ({ ...s, lastUsed: s.lastUsedAt.slice(0, 16).replace('T', ' ') })),
      recentActivity: activity.items.map(activityInWords),
      csrf: this.browser.csrfToken(request, reply, current.session),
      ...data,
    });
  }
}

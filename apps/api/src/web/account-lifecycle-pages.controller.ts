import { Body, Controller, Get, HttpCode, Post, Req, Res, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  AccountDeletionService,
  AccountExportService,
  AuthenticationRequiredError,
  ReauthenticationRequiredError,
  TooManyRequestsError,
  WrongCurrentPasswordError,
  type BrowserSession,
} from '@accounts/auth';
import { canonicalEmail, UsersService } from '@accounts/users';
import { IsDisplayName } from '../auth/dto/field-rules.decorators';
import { clientMeta } from '../auth/request-context.decorators';
import { BrowserSessions } from './browser-sessions.service';
import { SignedInFormGuard } from './form.guards';
import { NoStorePages } from './no-store-pages.interceptor';
import { PageErrorsFilter } from './page-errors.filter';
import { currentPasswordOf, ReauthenticationView, SIGN_IN_AGAIN } from './reauthentication.view';
import { checkForm, field, retryDelayInWords, type Form } from './page-form.util';

/** The name form's one field, under the API's rules (PATCH /users/me). */
class NameForm {
  @IsDisplayName()
  name: string;
}

/**
 * The account lifecycle on /account (SPEC §10): the name, the data export and account deletion.
 * Each form is also a page of its own, where it comes back with its errors in words.
 */
@Controller('account')
@UseFilters(PageErrorsFilter)
@UseInterceptors(NoStorePages)
export class AccountLifecyclePagesController {
  constructor(
    private readonly browser: BrowserSessions,
    private readonly users: UsersService,
    private readonly deletion: AccountDeletionService,
    private readonly exports: AccountExportService,
    private readonly reauthentication: ReauthenticationView,
  ) {}

  @Get('name')
  async namePage(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const current = await this.browser.current(request, reply);
    if (!current) return reply.status(303).redirect('/login');
    return this.renderName(request, reply, current, 200, { name: current.user.name ?? '' });
  }

  /** An empty name clears it, as `null` does in the API. */
  @Post('name')
  @UseGuards(SignedInFormGuard)
  @HttpCode(200)
  async rename(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const current = await this.browser.current(request, reply);
    if (!current) return reply.status(303).redirect('/login');
    const typed = field(form, 'name');
    if (typed.trim() === '') {
      await this.users.rename(current.user.id, null);
      return reply.status(303).redirect('/account?named=1');
    }
    const { value, errors } = await checkForm(NameForm, { name: typed });
    if (errors.name) return this.renderName(request, reply, current, 400, { name: typed, error: errors.name });
    await this.users.rename(current.user.id, value.name);
    return reply.status(303).redirect('/account?named=1');
  }

  /** The data export as a download, for the signed-in browser (GET /users/me/export's JSON). */
  @Get('export')
  async exportData(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const current = await this.browser.current(request, reply);
    if (!current) return reply.status(303).redirect('/login');
    const data = await this.exports.exportFor(current.user.id);
    return reply
      .header('Content-Type', 'application/json; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="account-export-${data.exportedAt.slice(0, 10)}.json"`)
      .send(JSON.stringify(data, null, 2));
  }

  @Get('delete')
  async deletePage(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const current = await this.browser.current(request, reply);
    if (!current) return reply.status(303).redirect('/login');
    return this.renderDelete(request, reply, current, 200, {});
  }

  /**
   * Deletes the account after re-authentication (the current password, counted like the API's, or
   * a recent provider sign-in for an account without one) and the address typed out, so no slip of
   * a click deletes it. The browser ends signed out, on a page that says so.
   */
  @Post('delete')
  @UseGuards(SignedInFormGuard)
  @HttpCode(200)
  async deleteAccount(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const current = await this.browser.current(request, reply);
    if (!current) return reply.status(303).redirect('/login');
    const { currentPassword, missing } = currentPasswordOf(form, current);
    const fail = (status: number, errors: Record<string, string>) => this.renderDelete(request, reply, current, status, { errors });
    if (canonicalEmail(field(form, 'confirmEmail')) !== canonicalEmail(current.user.email)) {
      return fail(400, { confirmEmail: `Type your email address, ${current.user.email}, to confirm` });
    }
    if (missing) return fail(400, { currentPassword: 'Enter your current password' });
    try {
      await this.deletion.deleteAccount({ userId: current.user.id, sessionId: current.session.id }, currentPassword, clientMeta(request));
    } catch (error) {
      if (error instanceof WrongCurrentPasswordError) return fail(400, { currentPassword: error.message });
      if (error instanceof ReauthenticationRequiredError) return fail(401, { currentPassword: SIGN_IN_AGAIN });
      if (error instanceof TooManyRequestsError) {
        reply.header('Retry-After', String(error.retryAfterSeconds));
        return fail(429, { currentPassword: `Too many attempts. Try again in ${retryDelayInWords(error)}.` });
      }
      // The session ended meanwhile (signed out elsewhere, a reset): nothing was deleted.
      if (error instanceof AuthenticationRequiredError) return reply.status(303).redirect('/login');
      throw error;
    }
    await this.browser.end(request, reply);
    return reply.view('account-deleted', { title: 'Account deleted', email: current.user.email });
  }

  private renderName(request: FastifyRequest, reply: FastifyReply, current: BrowserSession, status: number, data: Record<string, unknown>) {
    return reply.status(status).view('account-name', { title: 'Your name', csrf: this.browser.csrfToken(request, reply, current.session), ...data });
  }

  private async renderDelete(request: FastifyRequest, reply: FastifyReply, current: BrowserSession, status: number, data: Record<string, unknown>) {
    return reply.status(status).view('account-delete', {
      title: 'Delete your account',
      email: current.user.email,
      reauth: await this.reauthentication.of(current),
      csrf: this.browser.csrfToken(request, reply, current.session),
      ...data,
    });
  }
}

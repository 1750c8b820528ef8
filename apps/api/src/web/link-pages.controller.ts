import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Body, Controller, Get, Header, HttpCode, Post, Query, Req, Res, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import type {} from '@fastify/view';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthService, ConfirmationPasswordError, PasswordTooWeakError, RateLimits } from '@accounts/auth';
import { InvalidTokenError } from '@accounts/tokens';
import { isAcceptableEmail } from '../auth/dto/field-rules.decorators';
import { clientMeta } from '../auth/request-context.decorators';
import { PageErrorsFilter } from './page-errors.filter';
import { BrowserSessions } from './browser-sessions.service';
import { FormGuard } from './form.guards';
import { NoStorePages } from './no-store-pages.interceptor';
import { field, type Form } from './page-form.util';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,512}$/;
const STYLESHEET = readFileSync(join(__dirname, 'assets', 'site.css'));

/**
 * The pages emailed links open, and the recovery forms around them. They work without
 * JavaScript, and only their POSTs spend a token, so mail scanners that prefetch links cannot burn
 * or pre-confirm anything.
 */
@Controller()
@UseFilters(PageErrorsFilter)
@UseInterceptors(NoStorePages)
export class LinkPagesController {
  constructor(
    private readonly auth: AuthService,
    private readonly limits: RateLimits,
    private readonly browser: BrowserSessions,
  ) {}

  @Get('assets/site.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  stylesheet(): Buffer {
    return STYLESHEET;
  }

  @Get('confirm-email')
  async confirmPage(@Query('token') token: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return this.invalidLink(request, reply, 'confirm');
    // Peeked, never spent: the page shows the password fields when the link carries no password.
    let choosePassword = false;
    const live = await this.useToken(request, async () => {
      ({ choosePassword } = await this.auth.inspectConfirmation(token));
    });
    if (!live) return this.invalidLink(request, reply, 'confirm');
    return this.confirmForm(request, reply, 200, token, choosePassword);
  }

  @Post('confirm-email')
  @UseGuards(FormGuard)
  @HttpCode(200)
  async confirm(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const token = field(form, 'token');
    // Posted from the "Choose a password" form; the service refuses a password the link does not ask for.
    const choosing = typeof form?.password === 'string';
    const password = field(form, 'password');
    const again = (choosePassword: boolean, error: string) => this.confirmForm(request, reply, 400, token, choosePassword, error);
    if (choosing && password !== field(form, 'passwordConfirm')) return again(true, 'The two passwords do not match.');
    try {
      if (!(await this.useToken(request, () => this.auth.confirmEmail(token, choosing ? password : undefined)))) {
        return this.invalidLink(request, reply, 'confirm');
      }
    } catch (error) {
      if (error instanceof PasswordTooWeakError) return again(true, `${error.message}.`);
      if (error instanceof ConfirmationPasswordError) return again(error.reason === 'required', `${error.message}.`);
      throw error;
    }
    return reply.view('confirm-email-done', { title: 'Email confirmed' });
  }

  @Post('confirm-email/resend')
  @UseGuards(FormGuard)
  @HttpCode(200)
  async resendConfirmation(@Body() form: Form, @Res() reply: FastifyReply) {
    const email = field(form, 'email');
    if (isAcceptableEmail(email)) await this.auth.resendConfirmation(email);
    return reply.view('check-inbox', { title: 'Check your inbox' });
  }

  @Get('reset-password')
  resetPage(@Query('token') token: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return this.invalidLink(request, reply, 'reset');
    return reply.view('reset-password', { title: 'Choose a new password', token, csrf: this.browser.csrfToken(request, reply) });
  }

  @Post('reset-password')
  @UseGuards(FormGuard)
  @HttpCode(200)
  async reset(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const token = field(form, 'token');
    const password = field(form, 'password');
    const again = (error: string) =>
      reply.status(400).view('reset-password', { title: 'Choose a new password', token, error, csrf: this.browser.csrfToken(request, reply) });
    if (password !== field(form, 'passwordConfirm')) return again('The two passwords do not match.');
    try {
      if (!(await this.useToken(request, () => this.auth.resetPassword(token, password, clientMeta(request))))) {
        return this.invalidLink(request, reply, 'reset');
      }
    } catch (error) {
      if (error instanceof PasswordTooWeakError) return again(`${error.message}.`);
      throw error;
    }
    return reply.status(303).redirect('/login?reset=1');
  }

  @Get('forgot-password')
  forgotPage(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return reply.view('forgot-password', { title: 'Reset your password', csrf: this.browser.csrfToken(request, reply) });
  }

  @Post('forgot-password')
  @UseGuards(FormGuard)
  @HttpCode(200)
  async forgot(@Body() form: Form, @Res() reply: FastifyReply) {
    const email = field(form, 'email');
    if (isAcceptableEmail(email)) await this.auth.forgotPassword(email);
    return reply.view('check-inbox', { title: 'Check your inbox' });
  }

  /**
   * Looks at or spends a token under the same per-IP limit on invalid tokens as the API. False when
   * the token was unknown, expired or used.
   */
  private async useToken(request: FastifyRequest, use: () => Promise<unknown>): Promise<boolean> {
    try {
      await this.limits.spendToken(request.ip, use);
      return true;
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error;
      return false;
    }
  }

  private confirmForm(request: FastifyRequest, reply: FastifyReply, status: number, token: string, choosePassword: boolean, error?: string) {
    const csrf = this.browser.csrfToken(request, reply);
    return reply.status(status).view('confirm-email', { title: 'Confirm your email', token, choosePassword, error, csrf });
  }

  private invalidLink(request: FastifyRequest, reply: FastifyReply, purpose: 'confirm' | 'reset') {
    return reply.status(400).view('link-invalid', {
      title: 'Link invalid or expired',
      confirm: purpose === 'confirm',
      reset: purpose === 'reset',
      csrf: this.browser.csrfToken(request, reply),
    });
  }
}

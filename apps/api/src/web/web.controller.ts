import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Body, Controller, Get, Header, HttpCode, Post, Query, Res } from '@nestjs/common';
import type {} from '@fastify/view';
import type { FastifyReply } from 'fastify';
import { AuthService, PasswordTooWeakError } from '@accounts/auth';
import { InvalidTokenError } from '@accounts/tokens';
import { canonicalEmail } from '@accounts/users';

type Form = Record<string, unknown> | undefined;

function field(form: Form, name: string): string {
  const value = form?.[name];
  return typeof value === 'string' ? value : '';
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,512}$/;
const STYLESHEET = readFileSync(join(__dirname, 'assets', 'site.css'));

/**
 * The pages emailed links open. They work without JavaScript, and only their POSTs spend a token,
 * so mail scanners that prefetch links cannot burn or pre-confirm anything.
 */
@Controller()
export class WebController {
  constructor(private readonly auth: AuthService) {}

  @Get('assets/site.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  stylesheet(): Buffer {
    return STYLESHEET;
  }

  @Get('confirm-email')
  @Header('Cache-Control', 'no-store')
  confirmPage(@Query('token') token: unknown, @Res() reply: FastifyReply) {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return this.invalidLink(reply, 'confirm');
    return reply.view('confirm-email', { title: 'Confirm your email', token });
  }

  @HttpCode(200)
  @Post('confirm-email')
  @Header('Cache-Control', 'no-store')
  async confirm(@Body() form: Form, @Res() reply: FastifyReply) {
    try {
      await this.auth.confirmEmail(field(form, 'token'));
    } catch (error) {
      if (error instanceof InvalidTokenError) return this.invalidLink(reply, 'confirm');
      throw error;
    }
    return reply.view('confirm-email-done', { title: 'Email confirmed' });
  }

  @HttpCode(200)
  @Post('confirm-email/resend')
  @Header('Cache-Control', 'no-store')
  async resendConfirmation(@Body() form: Form, @Res() reply: FastifyReply) {
    const email = field(form, 'email');
    if (isPlausibleEmail(email)) await this.auth.resendConfirmation(email);
    return reply.view('check-inbox', { title: 'Check your inbox' });
  }

  @Get('reset-password')
  @Header('Cache-Control', 'no-store')
  resetPage(@Query('token') token: unknown, @Res() reply: FastifyReply) {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return this.invalidLink(reply, 'reset');
    return reply.view('reset-password', { title: 'Choose a new password', token });
  }

  @HttpCode(200)
  @Post('reset-password')
  @Header('Cache-Control', 'no-store')
  async reset(@Body() form: Form, @Res() reply: FastifyReply) {
    const token = field(form, 'token');
    const password = field(form, 'password');
    const again = (error: string) =>
      reply.status(400).view('reset-password', { title: 'Choose a new password', token, error });
    if (password !== field(form, 'passwordConfirm')) return again('The two passwords do not match.');
    try {
      await this.auth.resetPassword(token, password);
    } catch (error) {
      if (error instanceof InvalidTokenError) return this.invalidLink(reply, 'reset');
      if (error instanceof PasswordTooWeakError) return again(`${error.message}.`);
      throw error;
    }
    return reply.status(303).redirect('/login?reset=1');
  }

  @Get('forgot-password')
  forgotPage(@Res() reply: FastifyReply) {
    return reply.view('forgot-password', { title: 'Reset your password' });
  }

  @HttpCode(200)
  @Post('forgot-password')
  async forgot(@Body() form: Form, @Res() reply: FastifyReply) {
    const email = field(form, 'email');
    if (isPlausibleEmail(email)) await this.auth.forgotPassword(email);
    return reply.view('check-inbox', { title: 'Check your inbox' });
  }

  /** Where a reset lands; the full sign-in form arrives with the rest of the pages. */
  @Get('login')
  loginPage(@Query('reset') reset: unknown, @Res() reply: FastifyReply) {
    return reply.view('login', { title: 'Sign in', passwordUpdated: reset === '1' });
  }

  private invalidLink(reply: FastifyReply, purpose: 'confirm' | 'reset') {
    return reply.status(400).view('link-invalid', {
      title: 'Link invalid or expired',
      confirm: purpose === 'confirm',
      reset: purpose === 'reset',
    });
  }
}

function isPlausibleEmail(email: string): boolean {
  const canonical = canonicalEmail(email);
  return canonical.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(canonical);
}

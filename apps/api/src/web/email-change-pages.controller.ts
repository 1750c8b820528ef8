import { Body, Controller, Get, HttpCode, Post, Query, Req, Res, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import type {} from '@fastify/view';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { EmailChangeService, EmailTakenError, RateLimits } from '@accounts/auth';
import { InvalidTokenError, TokenPurpose } from '@accounts/tokens';
import { clientMeta } from '../auth/request-context.decorators';
import { BrowserSessions } from './browser-sessions.service';
import { FormGuard } from './form.guards';
import { NoStorePages } from './no-store-pages.interceptor';
import { PageErrorsFilter } from './page-errors.filter';
import { field, type Form } from './page-form.util';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,512}$/;

type LinkKind = 'change' | 'undo';

/** What each link's page says; the path is also the form's action. */
const PAGES = {
  change: {
    path: '/confirm-email-change',
    purpose: TokenPurpose.EmailChange,
    heading: 'Confirm your new email address',
    explanation: 'Press the button to make this address the one your account uses. Your password and sessions stay as they are.',
    button: 'Confirm my new address',
    taken: 'This address now belongs to another account, so it cannot be yours. Nothing was changed.',
  },
  undo: {
    path: '/undo-email-change',
    purpose: TokenPurpose.EmailChangeUndo,
    heading: 'Undo the email change',
    explanation:
      'Undoing gives your account this address back, signs everyone out (whoever changed it too) and sends a link here to choose a new password.',
    button: 'Undo the change',
    taken: 'Another confirmed account uses this address now, so it cannot be given back. Nothing was changed.',
  },
} as const;

/**
 * The pages the two email change links open (SPEC §10), like /confirm-email: the GET shows a button
 * and spends nothing (mail scanners prefetch links), the POST spends the token and says what happened.
 */
@Controller()
@UseFilters(PageErrorsFilter)
@UseInterceptors(NoStorePages)
export class EmailChangePagesController {
  constructor(
    private readonly emailChange: EmailChangeService,
    private readonly limits: RateLimits,
    private readonly browser: BrowserSessions,
  ) {}

  @Get('confirm-email-change')
  confirmPage(@Query('token') token: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.linkPage('change', token, request, reply);
  }

  @Post('confirm-email-change')
  @UseGuards(FormGuard)
  @HttpCode(200)
  confirm(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.spend('change', field(form, 'token'), request, reply, async (token) => {
      const user = await this.emailChange.confirm(token, clientMeta(request));
      return { title: 'Email address changed', email: user.email };
    });
  }

  @Get('undo-email-change')
  undoPage(@Query('token') token: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.linkPage('undo', token, request, reply);
  }

  @Post('undo-email-change')
  @UseGuards(FormGuard)
  @HttpCode(200)
  undo(@Body() form: Form, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    // A browser signed in to the account finds its session ended on its next page.
    return this.spend('undo', field(form, 'token'), request, reply, async (token) => {
      await this.emailChange.undo(token, clientMeta(request));
      return { title: 'The change is undone', undone: true };
    });
  }

  /** Spends a link's token and says what happened; a taken address keeps the link and says so. */
  private async spend(kind: LinkKind, token: string, request: FastifyRequest, reply: FastifyReply, use: (token: string) => Promise<Record<string, unknown>>) {
    try {
      const done = await this.useToken(request, () => use(token));
      if (!done) return this.invalidLink(request, reply, kind);
      return reply.view('email-change-done', done);
    } catch (error) {
      if (error instanceof EmailTakenError) return this.form(request, reply, 409, kind, token, PAGES[kind].taken);
      throw error;
    }
  }

  private async linkPage(kind: LinkKind, token: unknown, request: FastifyRequest, reply: FastifyReply) {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return this.invalidLink(request, reply, kind);
    const live = await this.useToken(request, async () => {
      await this.emailChange.inspect(PAGES[kind].purpose, token);
      return true;
    });
    if (!live) return this.invalidLink(request, reply, kind);
    return this.form(request, reply, 200, kind, token);
  }

  /**
   * Looks at or spends a token under the per-IP limit on invalid tokens, as the API does; null
   * when the token was unknown, expired, used or superseded.
   */
  private async useToken<T>(request: FastifyRequest, use: () => Promise<T>): Promise<T | null> {
    try {
      return await this.limits.spendToken(request.ip, use);
    } catch (error) {
      if (error instanceof InvalidTokenError) return null;
      throw error;
    }
  }

  private form(request: FastifyRequest, reply: FastifyReply, status: number, kind: LinkKind, token: string, error?: string) {
    const { path, heading, explanation, button } = PAGES[kind];
    return reply.status(status).view('email-change-link', {
      title: heading,
      heading,
      explanation,
      button,
      action: path,
      undo: kind === 'undo',
      token,
      error,
      csrf: this.browser.csrfToken(request, reply),
    });
  }

  private invalidLink(request: FastifyRequest, reply: FastifyReply, kind: LinkKind) {
    return reply.status(400).view('link-invalid', {
      title: 'Link invalid or expired',
      emailChange: kind === 'change',
      emailChangeUndo: kind === 'undo',
      csrf: this.browser.csrfToken(request, reply),
    });
  }
}

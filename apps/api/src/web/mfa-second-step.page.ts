import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BrowserSessions } from './browser-sessions.service';

export interface MfaSecondStepOptions {
  status?: number;
  /** Shown above the forms, in words. */
  error?: string;
  /** Which field the error is about, so that one is marked invalid and focused. */
  errorField?: 'code' | 'recoveryCode';
}

/**
 * The second step of a browser sign-in (SPEC §11), for every page flow whose sign-in ended in
 * MfaRequiredError (the password form, and an identity provider's callback): a form for the TOTP
 * code and one for a recovery code, each carrying the mfaToken in a hidden field and a CSRF token.
 * Both post to `/login/mfa` (MfaPagesController), which finishes the sign-in into the browser
 * session. Render it from a controller that uses NoStorePages, so the token is never cached.
 */
@Injectable()
export class MfaSecondStepPage {
  constructor(private readonly browser: BrowserSessions) {}

  render(request: FastifyRequest, reply: FastifyReply, mfaToken: string, { status = 200, error, errorField }: MfaSecondStepOptions = {}) {
    return reply.status(status).view('login-mfa', {
      title: 'Two-step sign-in',
      mfaToken,
      csrf: this.browser.csrfToken(request, reply),
      error,
      codeError: errorField === 'code',
      recoveryError: errorField === 'recoveryCode',
    });
  }
}

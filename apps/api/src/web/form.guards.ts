import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimits } from '@accounts/auth';
import { BrowserSessions, InvalidCsrfTokenError } from './browser-sessions.service';
import type { Form } from './page-form.util';

/** Every anonymous form POST: a valid CSRF token, and the same per-IP limit as the API's /auth/*. */
@Injectable()
export class FormGuard implements CanActivate {
  constructor(
    private readonly browser: BrowserSessions,
    private readonly limits: RateLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!this.browser.verifyCsrf(request, request.body as Form)) throw new InvalidCsrfTokenError();
    await this.limits.consume('authPerIp', request.ip);
    return true;
  }
}

/**
 * Every signed-in form POST: a CSRF token bound to this browser's session, and the per-IP limit.
 * Without a live session there is nothing to act on; the handler sends the browser to sign in.
 */
@Injectable()
export class SignedInFormGuard implements CanActivate {
  constructor(
    private readonly browser: BrowserSessions,
    private readonly limits: RateLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const current = await this.browser.current(request, context.switchToHttp().getResponse<FastifyReply>());
    if (current && !this.browser.verifyCsrf(request, request.body as Form, current.session)) throw new InvalidCsrfTokenError();
    await this.limits.consume('authPerIp', request.ip);
    return true;
  }
}

import Tokens from '@fastify/csrf';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimits, SessionsService, type Session, type TooManyRequestsError } from '@accounts/auth';
import { appConfig } from '@accounts/config';
import type { User } from '@accounts/users';

/** A submitted HTML form: every field may be missing or of the wrong type. */
export type Form = Record<string, unknown> | undefined;

export function field(form: Form, name: string): string {
  const value = form?.[name];
  return typeof value === 'string' ? value : '';
}

/** `3 minutes`: when a throttled visitor may try again. */
export function retryDelayInWords(error: TooManyRequestsError): string {
  const minutes = Math.max(1, Math.ceil(error.retryAfterSeconds / 60));
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

const SESSION_COOKIE = 'accounts_session';
const CSRF_COOKIE = 'accounts_csrf';

/** A form POST without a valid CSRF token (forged, or a page left open across a restart). */
export class InvalidCsrfTokenError extends Error {
  override readonly name = 'InvalidCsrfTokenError';
  constructor() {
    super('This form has expired. Reload the page and try again.');
  }
}

/**
 * Browser sign-in state and CSRF tokens. The session cookie is HttpOnly, SameSite=Lax and Secure
 * in production; it holds a refresh token of a server-side session (the same sessions as the
 * API), which the browser never rotates. CSRF uses a secret in its own cookie and a per-form token
 * derived from it (double submit, HMAC-checked by @fastify/csrf).
 */
@Injectable()
export class BrowserSessions {
  private readonly csrf = new Tokens({ userInfo: false });
  private readonly secure: boolean;

  constructor(
    private readonly sessions: SessionsService,
    @Inject(appConfig.KEY) app: ConfigType<typeof appConfig>,
  ) {
    this.secure = app.isProduction;
  }

  private cookie(maxAgeSeconds?: number) {
    return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: this.secure, maxAge: maxAgeSeconds };
  }

  async current(request: FastifyRequest): Promise<{ session: Session; user: User } | null> {
    const token = request.cookies[SESSION_COOKIE];
    return token ? this.sessions.findByBrowserToken(token) : null;
  }

  start(reply: FastifyReply, refreshToken: string, lifetimeSeconds: number): void {
    reply.setCookie(SESSION_COOKIE, refreshToken, this.cookie(lifetimeSeconds));
  }

  cookieToken(request: FastifyRequest): string | undefined {
    return request.cookies[SESSION_COOKIE];
  }

  end(reply: FastifyReply): void {
    reply.clearCookie(SESSION_COOKIE, this.cookie());
  }

  /** A token for the next form on the page, creating the browser's CSRF secret on first use. */
  csrfToken(request: FastifyRequest, reply: FastifyReply): string {
    let secret = request.cookies[CSRF_COOKIE];
    if (!secret) {
      secret = this.csrf.secretSync();
      reply.setCookie(CSRF_COOKIE, secret, this.cookie());
      // Later forms on this response must use the secret just set.
      request.cookies[CSRF_COOKIE] = secret;
    }
    return this.csrf.create(secret);
  }

  verifyCsrf(request: FastifyRequest, form: Form): boolean {
    const secret = request.cookies[CSRF_COOKIE];
    const token = form?._csrf;
    return typeof secret === 'string' && typeof token === 'string' && this.csrf.verify(secret, token);
  }
}

/** Every form POST: a valid CSRF token, and the same per-IP limit as the API's /auth/*. */
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

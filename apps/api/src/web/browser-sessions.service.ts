import Tokens from '@fastify/csrf';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BrowserCredentialsService, type BrowserSession, type Session, type SignedIn } from '@accounts/auth';
import { appConfig } from '@accounts/config';
import { clientMeta } from '../auth/request-context.decorators';
import type { Form } from './page-form.util';

/** A form POST without a valid CSRF token (forged, or a page left open across a restart). */
export class InvalidCsrfTokenError extends Error {
  override readonly name = 'InvalidCsrfTokenError';
  constructor() {
    super('This form has expired. Reload the page and try again.');
  }
}

/**
 * Browser sign-in state and CSRF tokens. The session cookie is HttpOnly, SameSite=Lax and, in
 * production, Secure with the `__Host-` prefix (so no subdomain or plain-HTTP page can plant or
 * overwrite it). It holds a browser credential (BrowserCredentialsService), never a refresh token.
 * CSRF tokens are salted digests of a secret in its own cookie (@fastify/csrf): for signed-in forms
 * bound to the browser session too, so a token from one session is refused in another; anonymous
 * forms (sign-in, registration, recovery) have only the secret (double submit).
 */
@Injectable()
export class BrowserSessions {
  private readonly anonymousCsrf = new Tokens({ userInfo: false });
  private readonly sessionCsrf = new Tokens({ userInfo: true });
  private readonly secure: boolean;
  private readonly sessionCookie: string;
  private readonly csrfCookie: string;
  private readonly oidcCookie: string;
  /** Per request: resolving may rotate the credential, which must happen once. */
  private readonly resolved = new WeakMap<FastifyRequest, Promise<BrowserSession | null>>();

  constructor(
    private readonly credentials: BrowserCredentialsService,
    @Inject(appConfig.KEY) app: ConfigType<typeof appConfig>,
  ) {
    this.secure = app.isProduction;
    const prefix = this.secure ? '__Host-' : '';
    this.sessionCookie = `${prefix}accounts_session`;
    this.csrfCookie = `${prefix}accounts_csrf`;
    this.oidcCookie = `${prefix}accounts_oidc`;
  }

  private cookie(maxAgeSeconds?: number) {
    return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: this.secure, maxAge: maxAgeSeconds };
  }

  private sessionCookieOptions(expiresAt: Date) {
    return this.cookie(Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000)));
  }

  /** The signed-in browser of this request, or null; a rotated credential goes out as a new cookie. */
  current(request: FastifyRequest, reply: FastifyReply): Promise<BrowserSession | null> {
    let found = this.resolved.get(request);
    if (!found) {
      found = this.resolve(request, reply);
      this.resolved.set(request, found);
    }
    return found;
  }

  private async resolve(request: FastifyRequest, reply: FastifyReply): Promise<BrowserSession | null> {
    const credential = request.cookies[this.sessionCookie];
    if (!credential) return null;
    const found = await this.credentials.resolve(credential);
    if (!found) reply.clearCookie(this.sessionCookie, this.cookie());
    else if (found.rotatedCredential) reply.setCookie(this.sessionCookie, found.rotatedCredential, this.sessionCookieOptions(found.session.expiresAt));
    return found;
  }

  /** Signs the browser in to the session a sign-in just opened (its refresh token is dropped). */
  async start(reply: FastifyReply, signedIn: SignedIn): Promise<void> {
    const { credential, expiresAt } = await this.credentials.adopt(signedIn.refreshToken);
    reply.setCookie(this.sessionCookie, credential, this.sessionCookieOptions(expiresAt));
  }

  /** Gives the browser the session's only credential: every other cookie of the session stops working. */
  async reissue(reply: FastifyReply, session: Session): Promise<void> {
    const { credential, expiresAt } = await this.credentials.reissue(session);
    reply.setCookie(this.sessionCookie, credential, this.sessionCookieOptions(expiresAt));
  }

  /** Ends the browser's session, if any, and forgets its cookie. */
  async end(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const credential = request.cookies[this.sessionCookie];
    if (credential) await this.credentials.end(credential, clientMeta(request));
    reply.clearCookie(this.sessionCookie, this.cookie());
  }

  /**
   * The secret binding identity-provider sign-ins to this browser (OidcSignInService): set when one
   * starts, presented by the callback. SameSite=Lax, so the provider's redirect back (a top-level
   * GET) carries it.
   */
  oidcBinding(request: FastifyRequest): string | undefined {
    return request.cookies[this.oidcCookie];
  }

  bindOidc(reply: FastifyReply, secret: string, maxAgeSeconds: number): void {
    reply.setCookie(this.oidcCookie, secret, this.cookie(maxAgeSeconds));
  }

  /** A token for the next form on the page: bound to `session` when given (signed-in forms). */
  csrfToken(request: FastifyRequest, reply: FastifyReply, session?: Session): string {
    let secret = request.cookies[this.csrfCookie];
    if (!secret) {
      secret = this.anonymousCsrf.secretSync();
      reply.setCookie(this.csrfCookie, secret, this.cookie());
      // Later forms on this response must use the secret just set.
      request.cookies[this.csrfCookie] = secret;
    }
    return session ? this.sessionCsrf.create(secret, session.id) : this.anonymousCsrf.create(secret);
  }

  verifyCsrf(request: FastifyRequest, form: Form, session?: Session): boolean {
    const secret = request.cookies[this.csrfCookie];
    const token = form?._csrf;
    if (typeof secret !== 'string' || typeof token !== 'string') return false;
    return session ? this.sessionCsrf.verify(secret, token, session.id) : this.anonymousCsrf.verify(secret, token);
  }
}

import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { UserRow } from '@accounts/users';
import { AccessTokenService, type Principal } from './access-token.service';
import { AuthenticationRequiredError } from './auth.errors';
import { SessionsService } from './sessions.service';

/** A request that passed JwtAuthGuard carries its principal. */
export interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
  /** The signed-in user's row, read with the session check (see SessionsService.liveSessionUser). */
  sessionUser?: UserRow;
}

// The scheme is case-insensitive (RFC 9110 §11.1); one space before the token, as test/security/jwt pins.
const BEARER = /^bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

/**
 * Accepts a bearer access token from the Authorization header only (never a query string), and
 * only while its session is alive, so sign-out takes effect on the very next request. The same
 * statement reads the user, so a route that shows it (GET /users/me) needs no second query.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly accessTokens: AccessTokenService,
    private readonly sessions: SessionsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    if (!match) throw new AuthenticationRequiredError();
    const principal = this.accessTokens.verify(match[1]);
    const user = await this.sessions.liveSessionUser(principal.sessionId, principal.userId);
    if (!user) throw new AuthenticationRequiredError();
    request.principal = principal;
    request.sessionUser = user;
    return true;
  }
}

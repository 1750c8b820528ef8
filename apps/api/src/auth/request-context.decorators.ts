import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuthenticationRequiredError, type AuthenticatedRequest, type Principal, type SessionMeta } from '@accounts/auth';
import type { UserRow } from '@accounts/users';

/** The principal JwtAuthGuard attached to the request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new AuthenticationRequiredError();
  return principal;
});

/** The signed-in user's row, which JwtAuthGuard read with the session check. */
export const SessionUser = createParamDecorator((_: unknown, context: ExecutionContext): UserRow => {
  const user = context.switchToHttp().getRequest<AuthenticatedRequest>().sessionUser;
  if (!user) throw new AuthenticationRequiredError();
  return user;
});

/** The client's user agent and IP (as far as TRUST_PROXY lets us believe X-Forwarded-For). */
export const ClientMeta = createParamDecorator(
  (_: unknown, context: ExecutionContext): SessionMeta => clientMeta(context.switchToHttp().getRequest<FastifyRequest>()),
);

export function clientMeta(request: FastifyRequest): SessionMeta {
  const userAgent = request.headers['user-agent'];
  return { userAgent: typeof userAgent === 'string' ? userAgent : undefined, ip: request.ip };
}

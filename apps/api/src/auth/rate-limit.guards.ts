import { Injectable, type CallHandler, type CanActivate, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { RateLimits } from '@accounts/auth';

function clientIp(context: ExecutionContext): string {
  // request.ip honours TRUST_PROXY hops only, so a forged X-Forwarded-For buys no fresh bucket;
  // RateLimits counts IPv6 clients per /64.
  return context.switchToHttp().getRequest<FastifyRequest>().ip;
}

/** Counts every request to /auth/* against its client IP. */
@Injectable()
export class AuthPerIpLimitGuard implements CanActivate {
  constructor(private readonly limits: RateLimits) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    await this.limits.consume('authPerIp', clientIp(context));
    return true;
  }
}

/** Counts invalid confirmation and reset tokens per client IP (RateLimits.spendToken). */
@Injectable()
export class TokenGuessLimitInterceptor implements NestInterceptor {
  constructor(private readonly limits: RateLimits) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return from(
      this.limits.spendToken(clientIp(context), () => lastValueFrom(next.handle(), { defaultValue: undefined })),
    );
  }
}

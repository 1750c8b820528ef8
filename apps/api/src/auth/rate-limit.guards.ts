import { Injectable, type CallHandler, type CanActivate, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { RateLimits } from '@accounts/auth';
import { InvalidTokenError } from '@accounts/tokens';

function clientIp(context: ExecutionContext): string {
  // request.ip honours TRUST_PROXY hops only, so a forged X-Forwarded-For buys no fresh bucket.
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

/**
 * Counts invalid confirmation and reset tokens per client IP, and refuses further submissions
 * from an IP that has used up its guesses, valid token or not.
 */
@Injectable()
export class TokenGuessLimitInterceptor implements NestInterceptor {
  constructor(private readonly limits: RateLimits) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const ip = clientIp(context);
    await this.limits.assertAllowed('tokenGuessPerIp', ip);
    return from(
      (async () => {
        try {
          return await lastValueFrom(next.handle(), { defaultValue: undefined });
        } catch (error) {
          if (error instanceof InvalidTokenError) await this.limits.count('tokenGuessPerIp', ip);
          throw error;
        }
      })(),
    );
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { authConfig } from '@accounts/config';
import { AuthenticationRequiredError } from './auth.errors';

/** Who a verified access token speaks for. */
export interface Principal {
  userId: string;
  sessionId: string;
}

/** HS256 access JWTs with `sub`, `sid`, `iat`, `exp`, `iss`, `aud`; nothing else is accepted. */
@Injectable()
export class AccessTokenService {
  constructor(
    private readonly jwt: JwtService,
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
  ) {}

  get lifetimeSeconds(): number {
    return Math.floor(this.config.accessTokenTtlMs / 1000);
  }

  sign(principal: Principal): string {
    return this.jwt.sign(
      { sid: principal.sessionId },
      {
        subject: principal.userId,
        expiresIn: this.lifetimeSeconds,
        issuer: this.config.jwtIssuer,
        audience: this.config.jwtAudience,
        algorithm: 'HS256',
      },
    );
  }

  verify(token: string): Principal {
    try {
      const claims = this.jwt.verify<{ sub?: unknown; sid?: unknown }>(token, {
        algorithms: ['HS256'],
        issuer: this.config.jwtIssuer,
        audience: this.config.jwtAudience,
      });
      if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string') throw new AuthenticationRequiredError();
      return { userId: claims.sub, sessionId: claims.sid };
    } catch {
      throw new AuthenticationRequiredError();
    }
  }
}

import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { JwtModule } from '@nestjs/jwt';
import { authConfig } from '@accounts/config';
import { MailQueueModule } from '@accounts/mail/outbox';
import { TokensModule } from '@accounts/tokens';
import { UsersModule } from '@accounts/users';
import { AccessTokenService } from './access-token.service';
import { AccountDeletionService } from './account-deletion.service';
import { AccountHandover } from './account-handover.service';
import { AccountExportService } from './account-export.service';
import { AuthService } from './auth.service';
import { BrowserCredential } from './browser-credential.entity';
import { BrowserCredentialsService } from './browser-credentials.service';
import { EmailChangeService } from './email-change.service';
import { MfaCrypto } from './mfa/mfa.crypto';
import { MfaFactor } from './mfa/mfa-factor.service';
import { MfaService } from './mfa/mfa.service';
import { IdentitiesService } from './identities.service';
import { Identity } from './identity.entity';
import { JwtAuthGuard } from './jwt-auth.guard';
import { OidcClient } from './oidc-client.service';
import { OidcSignInService } from './oidc-sign-in.service';
import { PasswordHasher } from './password.hasher';
import { PasswordPolicy } from './password.policy';
import { PasswordStrengthEstimator } from './password-strength.estimator';
import { RateLimits } from './rate-limits.service';
import { RefreshToken } from './refresh-token.entity';
import { SecurityEvents } from './security-events.service';
import { Session } from './session.entity';
import { SessionsService } from './sessions.service';
import { UnconfirmedAccountsCleaner } from './unconfirmed-accounts.cleaner';

@Module({
  imports: [
    UsersModule,
    TokensModule,
    MailQueueModule,
    MikroOrmModule.forFeature([Session, RefreshToken, BrowserCredential, Identity]),
    JwtModule.registerAsync({
      inject: [authConfig.KEY],
      useFactory: (auth: ConfigType<typeof authConfig>) => ({
        // A KeyObject rather than the secret string: jsonwebtoken skips re-deriving it on every call.
        secretOrKeyProvider: () => auth.jwtKey,
        signOptions: { algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
  ],
  providers: [
    AuthService,
    EmailChangeService,
    AccountDeletionService,
    AccountHandover,
    AccountExportService,
    SessionsService,
    BrowserCredentialsService,
    AccessTokenService,
    PasswordHasher,
    PasswordPolicy,
    PasswordStrengthEstimator,
    JwtAuthGuard,
    RateLimits,
    SecurityEvents,
    UnconfirmedAccountsCleaner,
    MfaCrypto,
    MfaFactor,
    MfaService,
    OidcClient,
    IdentitiesService,
    OidcSignInService,
  ],
  exports: [AuthService, EmailChangeService, MfaService, AccountDeletionService, AccountExportService, SessionsService, BrowserCredentialsService, AccessTokenService, JwtAuthGuard, RateLimits, SecurityEvents, UnconfirmedAccountsCleaner, OidcClient, IdentitiesService, OidcSignInService],
})
export class AuthModule {}

export { AuthModule } from './auth.module';
export { AuthService, REAUTHENTICATION_WINDOW_MS, type Registration, type RegistrationOutcome, type SignedIn } from './auth.service';
export { SessionsService, type SessionView } from './sessions.service';
export { EmailChangeService } from './email-change.service';
export { AccountDeletionService } from './account-deletion.service';
export {
  AccountExportService,
  type AccountExport,
  type AccountExportSections,
  type EmailedLinkExport,
  EXPORTED_LINK_PURPOSES,
  type IdentityExport,
  type MfaExport,
  type ProfileExport,
  type SessionExport,
} from './account-export.service';
export { BrowserCredentialsService, type BrowserSession } from './browser-credentials.service';
export { AccessTokenService, type Principal } from './access-token.service';
export { JwtAuthGuard, type AuthenticatedRequest } from './jwt-auth.guard';
export { PASSWORD_MAX_LENGTH, type PasswordOwner } from './password.policy';
export type { SessionMeta } from './session-meta.util';
export * from './auth.errors';
export { MfaService, type TotpSetup } from './mfa/mfa.service';
export { MFA_CHALLENGE_MAX_ATTEMPTS, MFA_CHALLENGE_TTL_SECONDS, type MfaProof } from './mfa/mfa-factor.service';
export * from './mfa/mfa.errors';
export { RateLimits, type LimitName } from './rate-limits.service';
export { SecurityEvents, type SecurityEvent, type SecurityEventFields, type SecurityEventObserver } from './security-events.service';
export { Session, type SignInMethod } from './session.entity';
export { UnconfirmedAccountsCleaner } from './unconfirmed-accounts.cleaner';
export { OidcClient, type ProviderClaims } from './oidc-client.service';
export { IdentitiesService, type IdentityView, type JoinedAccount } from './identities.service';
export { OIDC_FLOW_TTL_SECONDS, OidcSignInService, type ApiConsumerRequest, type CodeExchange, type FinishedSignIn, type StartedSignIn } from './oidc-sign-in.service';
export { CODE_VERIFIER, S256_CHALLENGE } from './pkce.util';
export { Identity } from './identity.entity';
export * from './oidc.errors';

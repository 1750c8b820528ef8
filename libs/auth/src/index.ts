export { AuthModule } from './auth.module';
export { AuthService, type Registration, type RegistrationOutcome, type SignedIn } from './auth.service';
export { SessionsService, type SessionView } from './sessions.service';
export { AccessTokenService, type Principal } from './access-token.service';
export { JwtAuthGuard, type AuthenticatedRequest } from './jwt-auth.guard';
export { PASSWORD_MAX_LENGTH } from './password.policy';
export type { SessionMeta } from './session-meta';
export * from './auth.errors';

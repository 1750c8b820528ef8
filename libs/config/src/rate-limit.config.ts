import { registerAs } from '@nestjs/config';
import ms from 'ms';
import { ConfigError, Env } from './env';

/** `N` events per `windowMs`, written `N/window` (`10/15m`). */
export interface Limit {
  points: number;
  windowMs: number;
}

function limit(env: Env, name: string, fallback: string): Limit {
  const raw = env.raw(name) ?? fallback;
  const match = /^(\d+)\s*\/\s*(\S+)$/.exec(raw);
  const windowMs = match ? ms(match[2] as ms.StringValue) : NaN;
  const points = match ? Number(match[1]) : NaN;
  if (!Number.isInteger(points) || points < 1 || !Number.isFinite(windowMs) || windowMs < 1000) {
    throw new ConfigError(`${name} must be written N/window, such as 10/15m (got "${raw}")`);
  }
  return { points, windowMs };
}

/** The abuse limits of the API, shared by every replica through Redis. */
export const rateLimitConfig = registerAs('rateLimit', () => {
  const env = new Env();
  const enabled = env.bool('RATE_LIMIT_ENABLED', true);
  // A forgotten test setting must not leave a production API open to password guessing.
  if (!enabled && env.isProduction) throw new ConfigError('RATE_LIMIT_ENABLED=false is for tests only; production keeps the limits on');
  return {
    /** false turns every limit off; outside production only (tests). */
    enabled,
    /** Failed sign-ins per address (known or not). */
    loginPerAccount: limit(env, 'RATE_LIMIT_LOGIN_PER_ACCOUNT', '10/15m'),
    /** Requests to /auth/* per client IP. */
    authPerIp: limit(env, 'RATE_LIMIT_AUTH_PER_IP', '100/15m'),
    /** Emails triggered per address by forgot, resend and register; above it no mail, same answer. */
    mailPerAddress: limit(env, 'RATE_LIMIT_MAIL_PER_ADDRESS', '3/1h'),
    /** Invalid confirmation or reset tokens submitted per client IP. */
    tokenGuessPerIp: limit(env, 'RATE_LIMIT_TOKEN_GUESS_PER_IP', '20/15m'),
    /** Email change requests per account (SPEC §10). */
    emailChangePerAccount: limit(env, 'RATE_LIMIT_EMAIL_CHANGE_PER_ACCOUNT', '3/1h'),
    /** Wrong MFA codes (TOTP or recovery) per account, at sign-in and in the MFA settings. */
    mfaPerAccount: limit(env, 'RATE_LIMIT_MFA_PER_ACCOUNT', '10/15m'),
  };
});

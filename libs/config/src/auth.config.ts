import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { registerAs } from '@nestjs/config';
import { ConfigError, Env } from './env';

/** OWASP's argon2id baseline; production never goes below it. */
const ARGON2_FLOOR = { memoryKib: 19456, timeCost: 2, parallelism: 1 };

export const authConfig = registerAs('auth', () => {
  const env = new Env();
  const logger = new Logger('Config');
  const secret = env.secret(
    'JWT_SECRET',
    () => randomBytes(32),
    (raw) => {
      const bytes = Buffer.from(raw, 'utf8');
      if (bytes.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 bytes');
      return bytes;
    },
    (line) => logger.warn(`${line} Access tokens will not survive a restart.`),
  );
  const argon2 = {
    memoryKib: env.int('ARGON2_MEMORY_KIB', ARGON2_FLOOR.memoryKib, { min: 1024, max: 4 * 1024 * 1024 }),
    timeCost: env.int('ARGON2_TIME_COST', ARGON2_FLOOR.timeCost, { min: 1, max: 20 }),
    parallelism: env.int('ARGON2_PARALLELISM', ARGON2_FLOOR.parallelism, { min: 1, max: 16 }),
  };
  if (env.isProduction) {
    for (const [key, floor] of Object.entries(ARGON2_FLOOR)) {
      if (argon2[key as keyof typeof argon2] < floor) {
        const name = { memoryKib: 'ARGON2_MEMORY_KIB', timeCost: 'ARGON2_TIME_COST', parallelism: 'ARGON2_PARALLELISM' }[key];
        throw new ConfigError(`${name} must be at least ${floor} in production`);
      }
    }
  }
  return {
    /** HS256 key as a KeyObject: jsonwebtoken verifies ~30x faster than with a string secret. */
    jwtKey: createSecretKey(secret) as KeyObject,
    jwtIssuer: new URL(env.url('APP_URL', 'http://localhost:3000', ['http', 'https'])).origin,
    jwtAudience: 'accounts-api',
    accessTokenTtlMs: env.duration('ACCESS_TOKEN_TTL', '15m'),
    refreshTokenTtlMs: env.duration('REFRESH_TOKEN_TTL', '30d'),
    confirmationTokenTtlMs: env.duration('CONFIRMATION_TOKEN_TTL', '24h'),
    resetTokenTtlMs: env.duration('RESET_TOKEN_TTL', '30m'),
    /** Lifetime of the link mailed to a requested new address (SPEC §10). */
    emailChangeTokenTtlMs: env.duration('EMAIL_CHANGE_TOKEN_TTL', '1h'),
    /** How long the old address may undo a change (SPEC §10). */
    emailChangeUndoTtlMs: env.duration('EMAIL_CHANGE_UNDO_TTL', '7d'),
    passwordMinLength: env.int('PASSWORD_MIN_LENGTH', 12, { min: 8, max: 64 }),
    argon2,
    emailConfirmationRequired: env.bool('EMAIL_CONFIRMATION_REQUIRED', false),
    /** Only while confirmation is required: with it off, unconfirmed accounts are ordinary accounts. */
    unconfirmedAccountTtlMs: env.duration('UNCONFIRMED_ACCOUNT_TTL', '7d'),
    /** How long account activity rows are kept (SPEC §10). */
    auditRetentionMs: env.duration('AUDIT_RETENTION', '180d'),
  };
});

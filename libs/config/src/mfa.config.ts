import { Logger } from '@nestjs/common';
import { registerAs } from '@nestjs/config';
import { ConfigError, developmentKey, Env } from './env';

/** The key that encrypts TOTP secrets at rest (and keys the recovery-code digests); the API only. */
export const mfaConfig = registerAs('mfa', () => {
  const env = new Env();
  const key = env.secret(
    'MFA_KEY',
    () => developmentKey('mfa'),
    (raw) => {
      const bytes = Buffer.from(raw, 'base64');
      if (bytes.length !== 32) throw new ConfigError('MFA_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
      return bytes;
    },
    (line) => new Logger('Config').warn(line),
  );
  return { key };
});

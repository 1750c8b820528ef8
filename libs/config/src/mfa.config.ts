import { registerAs } from '@nestjs/config';
import { ConfigError, Env } from './env';
import { base64Key } from './payload.config';

/**
 * The key that encrypts TOTP secrets at rest (and keys the recovery-code digests); the API only.
 * Production refuses it equal to PAYLOAD_KEY, which every mail worker holds.
 */
export const mfaConfig = registerAs('mfa', () => {
  const env = new Env();
  const key = base64Key(env, 'MFA_KEY', 'mfa');
  const payloadKey = env.raw('PAYLOAD_KEY');
  if (env.isProduction && payloadKey !== undefined && Buffer.from(payloadKey, 'base64').equals(key)) {
    throw new ConfigError('MFA_KEY must differ from PAYLOAD_KEY: the mail worker holds PAYLOAD_KEY and must not be able to read TOTP secrets');
  }
  return { key };
});

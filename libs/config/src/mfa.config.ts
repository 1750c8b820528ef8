import { registerAs } from '@nestjs/config';
import { Env } from './env';
import { base64Key } from './payload.config';

/** The key that encrypts TOTP secrets at rest (and keys the recovery-code digests); the API only. */
export const mfaConfig = registerAs('mfa', () => {
  const env = new Env();
  return { key: base64Key(env, 'MFA_KEY', 'mfa') };
});

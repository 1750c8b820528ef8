import { Logger } from '@nestjs/common';
import { registerAs } from '@nestjs/config';
import { ConfigError, developmentKey, Env } from './env';

const MIN_DISTINCT_KEY_BYTES = 16;

/**
 * A 32-byte key written in base64 (openssl rand -base64 32): required in production, refused there
 * when published or of very low variety; outside production a fixed development key derived from `purpose`.
 */
export function base64Key(env: Env, name: string, purpose: string): Buffer {
  const key = env.secret(
    name,
    () => developmentKey(purpose),
    (raw) => {
      const bytes = Buffer.from(raw, 'base64');
      if (bytes.length !== 32) throw new ConfigError(`${name} must be 32 bytes, base64-encoded (openssl rand -base64 32)`);
      return bytes;
    },
    (line) => new Logger('Config').warn(line),
  );
  // 32 random bytes hold about 30 different values (fewer than 16 has odds below 1e-14): so few
  // means a key typed or built by hand, not drawn.
  if (env.isProduction && new Set(key).size < MIN_DISTINCT_KEY_BYTES) {
    throw new ConfigError(`${name} has too few different bytes to be random; generate one (openssl rand -base64 32)`);
  }
  return key;
}

/** The key that seals tokens inside events; the api and every worker must share it. */
export const payloadConfig = registerAs('payload', () => {
  const env = new Env();
  return { key: base64Key(env, 'PAYLOAD_KEY', 'payload') };
});

import { Logger } from '@nestjs/common';
import { registerAs } from '@nestjs/config';
import { ConfigError, developmentKey, Env } from './env';

/**
 * A 32-byte key written in base64 (openssl rand -base64 32): required in production, refused there
 * when published; outside production a fixed development key derived from `purpose`.
 */
export function base64Key(env: Env, name: string, purpose: string): Buffer {
  return env.secret(
    name,
    () => developmentKey(purpose),
    (raw) => {
      const bytes = Buffer.from(raw, 'base64');
      if (bytes.length !== 32) throw new ConfigError(`${name} must be 32 bytes, base64-encoded (openssl rand -base64 32)`);
      return bytes;
    },
    (line) => new Logger('Config').warn(line),
  );
}

/** The key that seals tokens inside events; the api and every worker must share it. */
export const payloadConfig = registerAs('payload', () => {
  const env = new Env();
  return { key: base64Key(env, 'PAYLOAD_KEY', 'payload') };
});

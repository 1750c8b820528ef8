import { Logger } from '@nestjs/common';
import { registerAs } from '@nestjs/config';
import { ConfigError, developmentKey, Env } from './env';

/** The key that seals tokens inside events; the api and every worker must share it. */
export const payloadConfig = registerAs('payload', () => {
  const env = new Env();
  const key = env.secret(
    'PAYLOAD_KEY',
    () => developmentKey('payload'),
    (raw) => {
      const bytes = Buffer.from(raw, 'base64');
      if (bytes.length !== 32) throw new ConfigError('PAYLOAD_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
      return bytes;
    },
    (line) => new Logger('Config').warn(line),
  );
  return { key };
});

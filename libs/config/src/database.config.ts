import { registerAs } from '@nestjs/config';
import { ConfigError, Env } from './env';

export const databaseConfig = registerAs('database', () => {
  const env = new Env();
  const url = env.url('DATABASE_URL', 'postgres://postgres:postgres@localhost:5432/accounts', ['postgres', 'postgresql']);
  if (url.pathname.replace(/^\//, '') === '') throw new ConfigError('DATABASE_URL must name a database');
  return {
    url: url.toString(),
    poolSize: env.int('DATABASE_POOL_SIZE', 10, { min: 1, max: 100 }),
  };
});

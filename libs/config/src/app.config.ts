import { registerAs } from '@nestjs/config';
import { Env } from './env';

/** Settings every process reads: who we are and where our pages live. */
export const appConfig = registerAs('app', () => {
  const env = new Env();
  const url = env.url('APP_URL', 'http://localhost:3000', ['http', 'https']);
  return {
    runtime: env.runtime,
    isProduction: env.isProduction,
    name: env.string('APP_NAME', 'Accounts'),
    /** Public base URL without a trailing slash; every emailed link starts with it. */
    url: url.toString().replace(/\/+$/, ''),
    logLevel: env.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  };
});

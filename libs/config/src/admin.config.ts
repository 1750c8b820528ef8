import { registerAs } from '@nestjs/config';
import { ConfigError, Env } from './env';

/** The shortest dashboard password production accepts. */
export const ADMIN_PASSWORD_MIN_LENGTH = 12;

/**
 * The operators' queue dashboard (API, `/admin/queues`). It exists only when both ADMIN_USERNAME
 * and ADMIN_PASSWORD are set; without them nothing is mounted.
 */
export const adminConfig = registerAs('admin', () => {
  const env = new Env();
  const username = env.optionalString('ADMIN_USERNAME');
  const password = env.optionalString('ADMIN_PASSWORD');
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigError('ADMIN_USERNAME and ADMIN_PASSWORD must be set together (or both left unset to turn the dashboard off)');
  }
  if (username === undefined || password === undefined) return { dashboard: undefined };
  // Basic auth sends "user:password"; a colon in the name would split it in the wrong place.
  if (username.includes(':')) throw new ConfigError('ADMIN_USERNAME must not contain ":"');
  env.refusePublished('ADMIN_PASSWORD', password);
  if (env.isProduction && password.length < ADMIN_PASSWORD_MIN_LENGTH) {
    throw new ConfigError(`ADMIN_PASSWORD must be at least ${ADMIN_PASSWORD_MIN_LENGTH} characters in production`);
  }
  return { dashboard: { username, password } };
});

import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { registerAs } from '@nestjs/config';
import { ConfigError, Env } from './env';

/** The mail worker: how it sends and how hard it works. */
export const mailConfig = registerAs('mail', () => {
  const env = new Env();
  const smtp = env.raw('SMTP_URL');
  return {
    port: env.int('WORKER_PORT', 3001, { min: 0, max: 65535 }),
    /** Unset: messages are written as .eml files to `outboxDir` instead of being sent. */
    smtpUrl: smtp === undefined ? undefined : env.url('SMTP_URL', undefined, ['smtp', 'smtps']).toString(),
    outboxDir: env.string('MAIL_OUTBOX_DIR', 'var/mail'),
    from: env.string('MAIL_FROM', 'Accounts <no-reply@localhost>'),
    concurrency: env.int('MAIL_CONCURRENCY', 10, { min: 1, max: 1000 }),
    ratePerSecond: env.optionalInt('MAIL_RATE_PER_SECOND', { min: 1, max: 100000 }),
    /** Templates here shadow the built-in ones file by file (`<event>.hbs`, `layouts/*.hbs`). */
    templatesDir: templatesDir(env),
  };
});

function templatesDir(env: Env): string | undefined {
  const dir = env.optionalString('MAIL_TEMPLATES_DIR');
  if (dir === undefined) return undefined;
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // Reported below, with the path as given.
  }
  if (!isDirectory) throw new ConfigError(`MAIL_TEMPLATES_DIR must be an existing directory (got "${dir}")`);
  return resolve(dir);
}

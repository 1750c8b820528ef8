import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { registerAs } from '@nestjs/config';
import { ConfigError, Env } from './env';

/** SMTP_URL query options through which nodemailer would weaken or skip TLS. */
const TLS_DOWNGRADES = ['secure', 'requireTLS', 'ignoreTLS', 'opportunisticTLS', 'tls.rejectUnauthorized'];

/** The mail worker: how it sends and how hard it works. */
export const mailConfig = registerAs('mail', () => {
  const env = new Env();
  const smtp = env.raw('SMTP_URL') === undefined ? undefined : env.url('SMTP_URL', undefined, ['smtp', 'smtps']);
  // Files hold live links: production writes them only when told where, never by default.
  if (env.isProduction && smtp === undefined && env.raw('MAIL_OUTBOX_DIR') === undefined) {
    throw new ConfigError('SMTP_URL is required in production (or set MAIL_OUTBOX_DIR to write messages, with their live links, to files)');
  }
  return {
    port: env.int('WORKER_PORT', 3001, { min: 0, max: 65535 }),
    /** Unset: messages are written as .eml files to `outboxDir` instead of being sent. */
    smtpUrl: smtp?.toString(),
    /** STARTTLS is mandatory on `smtp://`: a server (or a man in the middle) cannot downgrade us to plaintext. */
    smtpRequireTls: smtp !== undefined && requireTls(env, smtp, env.bool('SMTP_ALLOW_PLAINTEXT', false)),
    outboxDir: env.string('MAIL_OUTBOX_DIR', 'var/mail'),
    from: env.string('MAIL_FROM', 'Accounts <no-reply@localhost>'),
    concurrency: env.int('MAIL_CONCURRENCY', 10, { min: 1, max: 1000 }),
    ratePerSecond: env.optionalInt('MAIL_RATE_PER_SECOND', { min: 1, max: 100000 }),
    /** Templates here shadow the built-in ones file by file (`<event>.hbs`, `layouts/*.hbs`). */
    templatesDir: templatesDir(env),
  };
});

/**
 * Production sends mail only encrypted: `smtps://` is TLS from the start, `smtp://` must upgrade
 * with STARTTLS. SMTP_ALLOW_PLAINTEXT=true lifts that (a local relay or Mailpit); development and
 * test send in plaintext when the server offers no STARTTLS, as nodemailer does by default.
 */
function requireTls(env: Env, smtp: URL, allowPlaintext: boolean): boolean {
  if (!env.isProduction) return false;
  if (allowPlaintext) {
    if (smtp.protocol === 'smtp:') new Logger('Config').warn('SMTP_ALLOW_PLAINTEXT is true: mail and the links in it may cross the network unencrypted');
    return false;
  }
  // nodemailer lets the URL's query override the transport options, requireTLS included.
  const downgrade = [...smtp.searchParams].find(([key, value]) => TLS_DOWNGRADES.includes(key) && !(key === 'requireTLS' && value === 'true'))?.[0];
  if (downgrade !== undefined) {
    throw new ConfigError(`SMTP_URL must not set ${downgrade} in production (set SMTP_ALLOW_PLAINTEXT=true to allow plaintext SMTP)`);
  }
  return smtp.protocol === 'smtp:';
}

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

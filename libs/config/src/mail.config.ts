import { registerAs } from '@nestjs/config';
import { Env } from './env';

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
  };
});

import { registerAs } from '@nestjs/config';
import { Env } from './env';

/** The mail queue as both the producer (api) and the consumer (worker) see it. */
export const queueConfig = registerAs('queue', () => {
  const env = new Env();
  return {
    redisUrl: env.url('REDIS_URL', 'redis://localhost:6379', ['redis', 'rediss']).toString(),
    /** BullMQ key prefix; `{accounts}` keeps a queue's keys in one Redis Cluster slot. */
    prefix: env.string('QUEUE_PREFIX', 'accounts'),
    attempts: env.int('MAIL_ATTEMPTS', 10, { min: 1, max: 100 }),
  };
});

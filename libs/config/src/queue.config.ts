import { registerAs } from '@nestjs/config';
import { ConfigError, Env } from './env';

/** The mail queue as both the producer (api) and the consumer (worker) see it. */
export const queueConfig = registerAs('queue', () => {
  const env = new Env();
  const lockDurationMs = env.duration('MAIL_LOCK_DURATION', '30s');
  if (lockDurationMs < 1_000) throw new ConfigError('MAIL_LOCK_DURATION must be at least 1s');
  return {
    redisUrl: env.url('REDIS_URL', 'redis://localhost:6379', ['redis', 'rediss']).toString(),
    /** BullMQ key prefix; `{accounts}` keeps a queue's keys in one Redis Cluster slot. */
    prefix: env.string('QUEUE_PREFIX', 'accounts'),
    attempts: env.int('MAIL_ATTEMPTS', 10, { min: 1, max: 100 }),
    /**
     * Worker: how long a job stays locked to the worker running it. A running job's lock is renewed
     * every half of it; a worker that dies (SIGKILL, lost host) leaves its jobs locked this long, and
     * another worker takes them over within about twice this.
     */
    lockDurationMs,
    /** Worker: on SIGTERM, how long in-flight jobs may take before the worker leaves them to another one. */
    shutdownTimeoutMs: env.duration('MAIL_SHUTDOWN_TIMEOUT', '25s'),
    /** API: published outbox rows older than this are deleted. */
    outboxRetentionMs: env.duration('OUTBOX_RETENTION', '7d'),
    /**
     * API: failed mail jobs are removed once failed this long ago. They hold an address (and a
     * sealed token); a job of a deleted account that fails after its deletion is gone by then too.
     */
    failedJobRetentionMs: env.duration('MAIL_FAILED_RETENTION', '7d'),
  };
});

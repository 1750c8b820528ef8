import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { queueConfig, rateLimitConfig, type Limit } from '@accounts/config';
import { redisOptions } from '@accounts/mail';
import { TooManyRequestsError } from './auth.errors';
import { SecurityEvents } from './security-events';

export type LimitName = 'loginPerAccount' | 'authPerIp' | 'mailPerAddress' | 'tokenGuessPerIp';

const LIMIT_NAMES: LimitName[] = ['loginPerAccount', 'authPerIp', 'mailPerAddress', 'tokenGuessPerIp'];

/**
 * The abuse limits (fixed windows) counted in Redis, so every API replica shares them. While Redis
 * is unreachable each limiter falls back to a per-process in-memory count: an outage of Redis
 * never becomes an outage of sign-in. Keys are hashed, so Redis holds no addresses or IPs.
 */
@Injectable()
export class RateLimits implements OnModuleDestroy {
  private readonly redis: Redis | undefined;
  private readonly limiters: Partial<Record<LimitName, RateLimiterAbstract>> = {};

  constructor(
    @Inject(rateLimitConfig.KEY) config: ConfigType<typeof rateLimitConfig>,
    @Inject(queueConfig.KEY) queue: ConfigType<typeof queueConfig>,
    private readonly events: SecurityEvents,
  ) {
    if (!config.enabled) return;
    // Fails fast while Redis is away (no offline queue), which hands the count to the fallback.
    this.redis = new Redis(redisOptions(queue.redisUrl, 'producer'));
    this.redis.on('error', () => undefined);
    for (const name of LIMIT_NAMES) {
      const { points, windowMs } = config[name] as Limit;
      const duration = Math.ceil(windowMs / 1000);
      this.limiters[name] = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: `${queue.prefix}:limit:${name}`,
        points,
        duration,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration }),
      });
    }
  }

  onModuleDestroy(): void {
    this.redis?.disconnect();
  }

  /** Throws TooManyRequestsError when `key` has used up `name`; counts nothing. */
  async assertAllowed(name: LimitName, key: string): Promise<void> {
    const limiter = this.limiters[name];
    if (!limiter) return;
    const state = await limiter.get(hashKey(key));
    if (state && state.consumedPoints >= limiter.points) this.refuse(name, state);
  }

  /** Counts one event against `key`. Returns false when it went over the limit. */
  async count(name: LimitName, key: string): Promise<boolean> {
    const limiter = this.limiters[name];
    if (!limiter) return true;
    try {
      await limiter.consume(hashKey(key));
      return true;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return false;
      throw rejection;
    }
  }

  /** Counts one event and throws TooManyRequestsError when it goes over the limit. */
  async consume(name: LimitName, key: string): Promise<void> {
    const limiter = this.limiters[name];
    if (!limiter) return;
    try {
      await limiter.consume(hashKey(key));
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) this.refuse(name, rejection);
      throw rejection;
    }
  }

  /** Forgets `key`'s count (a password reset clears the failed sign-ins of its account). */
  async clear(name: LimitName, key: string): Promise<void> {
    await this.limiters[name]?.delete(hashKey(key));
  }

  private refuse(name: LimitName, state: RateLimiterRes): never {
    const retryAfterSeconds = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
    this.events.record('security.throttled', { limit: name, retryAfterSeconds });
    throw new TooManyRequestsError(retryAfterSeconds);
  }
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 32);
}

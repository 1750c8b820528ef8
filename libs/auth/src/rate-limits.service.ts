import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { queueConfig, rateLimitConfig, type Limit } from '@accounts/config';
import { redisOptions } from '@accounts/redis';
import { InvalidTokenError } from '@accounts/tokens';
import { TooManyRequestsError } from './auth.errors';
import { clientSource } from './client-source.util';
import { SecurityEvents } from './security-events.service';

type ConfiguredLimit = Exclude<keyof ConfigType<typeof rateLimitConfig>, 'enabled'>;

/** Each limit, the configured value it counts with, and whether its key is a client IP. */
const LIMITS = {
  /** Failed sign-ins per address; a source with a live session of the account has a key of its own. */
  loginPerAccount: { value: 'loginPerAccount', perIp: false },
  /** Wrong current passwords per account (password change, later email change and deletion). */
  currentPasswordPerAccount: { value: 'loginPerAccount', perIp: false },
  authPerIp: { value: 'authPerIp', perIp: true },
  mailPerAddress: { value: 'mailPerAddress', perIp: false },
  tokenGuessPerIp: { value: 'tokenGuessPerIp', perIp: true },
  /** Email change requests per account. */
  emailChangePerAccount: { value: 'emailChangePerAccount', perIp: false },
  /** Wrong MFA codes per account (sign-in's second step and the MFA settings). */
  mfaPerAccount: { value: 'mfaPerAccount', perIp: false },
} as const satisfies Record<string, { value: ConfiguredLimit; perIp: boolean }>;

export type LimitName = keyof typeof LIMITS;

/** SPEC §7: how long a limit waits for Redis before it counts in memory instead. */
const REDIS_ANSWER_TIMEOUT_MS = 500;

/**
 * The abuse limits (fixed windows) counted in Redis, so every API replica shares them. A limit is
 * taken before the work it guards and given back when that work turns out not to count, so
 * parallel requests can never get past it. While Redis is unreachable or does not answer within
 * 500 ms, each limiter falls back to a per-process in-memory count: an outage of Redis never
 * becomes an outage of sign-in. Keys are hashed, so Redis holds no addresses or IPs; per-IP limits
 * count IPv6 clients per /64.
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
    this.redis = new Redis({
      ...redisOptions(queue.redisUrl, 'producer'),
      // A Redis that stops answering without closing its sockets: the command fails after the
      // deadline, and the silent socket is dropped, so until a reconnect passes ioredis' ready
      // check every command fails at once (no offline queue) and only the first request waits.
      commandTimeout: REDIS_ANSWER_TIMEOUT_MS,
      socketTimeout: REDIS_ANSWER_TIMEOUT_MS,
    });
    this.redis.on('error', () => undefined);
    for (const [name, { value }] of Object.entries(LIMITS) as Array<[LimitName, { value: ConfiguredLimit }]>) {
      const { points, windowMs } = config[value] as Limit;
      const duration = Math.ceil(windowMs / 1000);
      this.limiters[name] = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: `${queue.prefix}:limit:${name}`,
        points,
        duration,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration }),
      });
    }
  }

  onModuleDestroy(): void {
    this.redis?.disconnect();
  }

  /** Takes one point from `key`. Returns false when it went over the limit. */
  async count(name: LimitName, key: string): Promise<boolean> {
    const limiter = this.limiters[name];
    if (!limiter) return true;
    try {
      await limiter.consume(storageKey(name, key));
      return true;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return false;
      throw rejection;
    }
  }

  /** Takes one point from `key` and throws TooManyRequestsError when it went over the limit. */
  async consume(name: LimitName, key: string): Promise<void> {
    const limiter = this.limiters[name];
    if (!limiter) return;
    try {
      await limiter.consume(storageKey(name, key));
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) this.refuse(name, rejection);
      throw rejection;
    }
  }

  /** Returns a point taken by `consume` for work that turned out not to count. */
  async giveBack(name: LimitName, key: string): Promise<void> {
    await this.limiters[name]?.reward(storageKey(name, key));
  }

  /**
   * Runs `work` under `name`: the point is taken first (TooManyRequestsError when none is left)
   * and kept only when `work` fails with an error `counts` accepts, such as a wrong token.
   */
  async guard<T>(name: LimitName, key: string, work: () => Promise<T>, counts: (error: unknown) => boolean): Promise<T> {
    await this.consume(name, key);
    try {
      const result = await work();
      await this.giveBack(name, key);
      return result;
    } catch (error) {
      if (!counts(error)) await this.giveBack(name, key);
      throw error;
    }
  }

  /**
   * Spends a one-time token (confirmation or reset link) under the per-IP limit on guesses: only an
   * invalid token counts, taken before the token is looked at so parallel guesses cannot outrun it.
   * The API and the pages both spend tokens through here.
   */
  spendToken<T>(ip: string, spend: () => Promise<T>): Promise<T> {
    return this.guard('tokenGuessPerIp', ip, spend, (error) => error instanceof InvalidTokenError);
  }

  /** Forgets `key`'s count (a password reset clears the failed sign-ins of its account). */
  async clear(name: LimitName, key: string): Promise<void> {
    await this.limiters[name]?.delete(storageKey(name, key));
  }

  private refuse(name: LimitName, state: RateLimiterRes): never {
    const retryAfterSeconds = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
    this.events.record('security.throttled', { limit: name, retryAfterSeconds });
    throw new TooManyRequestsError(retryAfterSeconds);
  }
}

function storageKey(name: LimitName, key: string): string {
  const counted = LIMITS[name].perIp ? clientSource(key) : key;
  return createHash('sha256').update(counted).digest('base64url').slice(0, 32);
}

import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { pingWithin } from './redis.probe';

/**
 * Provided by each app: the Redis client whose answer tells readiness (the API's queue connection,
 * the one the relay publishes through; the worker's own connection).
 */
export const REDIS_HEALTH_CLIENT = Symbol('REDIS_HEALTH_CLIENT');

/** PINGs Redis over the client of REDIS_HEALTH_CLIENT, with a deadline. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(REDIS_HEALTH_CLIENT) private readonly client: () => Promise<object> | object,
  ) {}

  async pingCheck<const Key extends string>(key: Key, timeoutMs: number) {
    const indicator = this.indicators.check(key);
    return (await pingWithin(this.client(), timeoutMs)) ? indicator.up() : indicator.down({ message: `no answer within ${timeoutMs} ms` });
  }
}

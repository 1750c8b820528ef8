// @accounts/redis: the one way to connect to Redis, probe it and report it healthy.
export { redisOptions } from './redis.connection';
export { assertRedisReachable, pingWithin, redisUnreachableReason, RedisUnavailableError } from './redis.probe';
export { REDIS_HEALTH_CLIENT, RedisHealthIndicator } from './redis.health';

import { assertRedisReachable, redisUnreachableReason, RedisUnavailableError } from '@accounts/redis';
import { PrivateRedis } from '../support/private-redis';

/**
 * The start-up probe of the API and the worker against a Redis that accepts connections but never
 * answers: without a deadline of its own the probe waits forever and so does the start. Jest's
 * timeout below is only the failure mode of a hang; the probe gives up after about 2 s.
 */
describe('fault: start-up probe against a frozen Redis (SIGSTOP)', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
  });
  afterEach(() => redis.thaw());
  afterAll(async () => {
    await redis?.stop();
  });

  it('reports a frozen Redis as unreachable instead of hanging, and a thawed one as reachable', async () => {
    expect(await redisUnreachableReason(redis.url)).toBeUndefined();
    redis.freeze();
    expect(await redisUnreachableReason(redis.url)).toEqual(expect.any(String));
    redis.thaw();
    expect(await redisUnreachableReason(redis.url)).toBeUndefined();
  }, 15_000);

  it("stops the worker's start with one line naming Redis", async () => {
    redis.freeze();
    const error = await assertRedisReachable(redis.url).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toContain(`cannot reach Redis at ${redis.url}`);
  }, 15_000);
});

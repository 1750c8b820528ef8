import { redactUrl } from '@accounts/config';
import { redisUnreachableReason } from '@accounts/mail';

/** Redis could not be reached when the worker started; the message is the one line an operator sees. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/** A worker without Redis can do nothing, and its own connections would retry silently forever. */
export async function assertRedisReachable(redisUrl: string): Promise<void> {
  const reason = await redisUnreachableReason(redisUrl);
  if (reason !== undefined) {
    throw new RedisUnavailableError(`cannot reach Redis at ${redactUrl(redisUrl)} (${reason}); is it running? Try: docker compose up -d redis`);
  }
}

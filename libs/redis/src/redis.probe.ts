import { Redis } from 'ioredis';
import { redactUrl, withinDeadline } from '@accounts/config';
import { redisOptions } from './redis.connection';

/** How long the start-up probe waits for the connection, and then for PONG. */
const PROBE_DEADLINE_MS = 2_000;

/**
 * Connects once and pings. Returns why Redis cannot be reached, or undefined when it answers.
 * Used at start-up, where queue connections would otherwise retry silently forever.
 */
export async function redisUnreachableReason(redisUrl: string): Promise<string | undefined> {
  const client = new Redis({
    ...redisOptions(redisUrl, 'producer'),
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: PROBE_DEADLINE_MS,
    // A server that accepts the connection but never answers (frozen, overloaded) would hold the
    // ready check, which has no deadline, forever, and the client-info commands for a deadline of
    // their own: skip both and let PING's commandTimeout decide.
    enableReadyCheck: false,
    disableClientInfo: true,
    commandTimeout: PROBE_DEADLINE_MS,
  });
  // connect() only says "Connection is closed"; the cause (ECONNREFUSED, auth) arrives as an event.
  let cause: Error | undefined;
  client.on('error', (error: Error) => {
    cause = error;
  });
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return (cause ?? (error as Error)).message;
  } finally {
    // disconnect() on a client whose connection already failed leaves a 2 s timer behind.
    if (client.status !== 'end') client.disconnect();
  }
}

/**
 * PING with a deadline, for readiness checks: a connection queues commands while Redis is away
 * instead of failing. BullMQ types its clients without PING; built from ioredis options, as ours
 * are, they are ioredis instances.
 */
export function pingWithin(client: Promise<object> | object, timeoutMs: number): Promise<boolean> {
  const ping = Promise.resolve(client)
    .then((redis) => (redis as Pick<Redis, 'ping'>).ping())
    .then((reply) => reply === 'PONG', () => false);
  return withinDeadline(ping, timeoutMs, () => false);
}

/** Redis could not be reached at start-up; the message is the one line an operator sees. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/** For a process that can do nothing without Redis, and whose own connections would retry silently forever. */
export async function assertRedisReachable(redisUrl: string): Promise<void> {
  const reason = await redisUnreachableReason(redisUrl);
  if (reason !== undefined) {
    throw new RedisUnavailableError(`cannot reach Redis at ${redactUrl(redisUrl)} (${reason}); is it running? Try: docker compose up -d redis`);
  }
}

/**
 * node-postgres' query_timeout answers a query that got no reply with an error, but leaves the
 * connection as it was: still waiting for that reply, so every later query on it waits too, and the
 * pool keeps handing it out. A connection whose server went silent (hung, or behind a broken
 * network) must be thrown away instead: closing its socket makes the client report it ended, and
 * the pool then discards it rather than reusing it.
 */
interface PgClientLike {
  query: (...args: unknown[]) => unknown;
  connection?: { stream?: { destroy(): void } };
}

export const READ_TIMEOUT_MESSAGE = 'Query read timeout';

export function dropConnectionOnReadTimeout(client: PgClientLike): void {
  const query = client.query.bind(client);
  client.query = (...args: unknown[]) => {
    const at = args.findIndex((arg) => typeof arg === 'function');
    if (at === -1) return query(...args);
    const callback = args[at] as (error: Error | null, result?: unknown) => void;
    args[at] = (error: Error | null, result?: unknown) => {
      if (error?.message === READ_TIMEOUT_MESSAGE) client.connection?.stream?.destroy();
      callback(error, result);
    };
    return query(...args);
  };
}

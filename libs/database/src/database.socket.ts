import { Socket } from 'node:net';

/**
 * PostgreSQL stopped answering on a connection: nothing came or went for the socket's deadline
 * (a hung server, a broken network), or the server closed it. `code` is what callers test.
 */
export class DatabaseConnectionLostError extends Error {
  override readonly name = 'DatabaseConnectionLostError';

  constructor(
    readonly code: 'ETIMEDOUT' | 'ECONNRESET',
    why: string,
  ) {
    super(why);
  }
}

/**
 * The socket node-postgres talks through (its `stream` option), with deadlines of silence: until
 * the server first answers (so a connect to a hung server fails before the pool's acquire timeout,
 * with a code), then between any two packets. A connection whose server went silent must be
 * thrown away, not returned to the pool still waiting for a reply: the socket is destroyed with a
 * coded error, which fails the query in flight, and the pool discards the connection. A server
 * that closes the connection fails its query with a coded error too, so an outage is always
 * recognised by its code, never by a message.
 */
export function socketWithDeadlines({ connectMs, silenceMs }: { connectMs: number; silenceMs: number }): () => Socket {
  return () => {
    const socket = new Socket();
    let deadline = connectMs;
    socket.setTimeout(deadline);
    socket.on('timeout', () => socket.destroy(new DatabaseConnectionLostError('ETIMEDOUT', `PostgreSQL sent nothing for ${deadline} ms`)));
    socket.once('data', () => {
      deadline = silenceMs;
      socket.setTimeout(deadline);
    });
    // Registered before the driver's own listeners, so the coded error arrives before its "close".
    socket.once('end', () => socket.destroy(new DatabaseConnectionLostError('ECONNRESET', 'PostgreSQL closed the connection')));
    return socket;
  };
}

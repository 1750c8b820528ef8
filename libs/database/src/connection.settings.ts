import { socketWithDeadlines } from './database.socket';

/**
 * How long a request may wait on PostgreSQL before it is answered 503: for a free connection from
 * a pool, for a new connection, and for a query. The server cancels a statement after
 * statementMs; a connection silent a second longer will not answer (the server hangs or the
 * network is gone), so its socket is closed and the connection discarded. Idle connections leave
 * a pool before that deadline would close them.
 */
const STATEMENT_MS = 4_000;
export const POOL_TIMING = {
  acquireMs: 3_000,
  connectMs: 2_500,
  statementMs: STATEMENT_MS,
  silenceMs: STATEMENT_MS + 1_000,
  idleMs: STATEMENT_MS,
} as const;

/** node-postgres settings of every connection the API opens, MikroORM's and the prepared statements'. */
export function connectionSettings() {
  return {
    stream: socketWithDeadlines({ connectMs: POOL_TIMING.connectMs, silenceMs: POOL_TIMING.silenceMs }),
    statement_timeout: POOL_TIMING.statementMs,
    keepAlive: true,
  };
}

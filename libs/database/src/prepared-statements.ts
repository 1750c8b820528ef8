import { ConnectionException, MikroORM } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { DatabaseError, Pool, type PoolClient, type PoolConfig } from 'pg';
import { databaseConfig } from '@accounts/config';
import { connectionSettings, POOL_TIMING } from './connection.settings';

/** More distinct texts than the hot paths have means a text varies with input: run it unnamed. */
const MAX_NAMED_STATEMENTS = 100;

/**
 * Errors a statement prepared before a schema change can meet on its next run: "cached plan must
 * not change result type" (0A000), a prepared statement gone (26000), and the analysis errors of
 * class 42 (a parameter's type no longer matching its column's: 42804). All come before the
 * statement does anything, so running it again is safe.
 */
function mayBeStale(error: DatabaseError): boolean {
  return error.code === '0A000' || error.code === '26000' || error.code?.startsWith('42') === true;
}

/** The server ended the session: the connection is dead (class 08, 57P01-57P03 shutdowns, any FATAL). */
function endsSession(error: DatabaseError): boolean {
  return error.severity === 'FATAL' || error.severity === 'PANIC' || error.code?.startsWith('08') === true || error.code?.startsWith('57P') === true;
}

interface Statement {
  name: string | undefined;
  text: string;
}

/**
 * The hot paths' statements (the bearer check, sign-in, refresh, forgot-password): each ONE
 * statement of its own, outside any unit of work, so they can leave MikroORM and knex. They run as
 * named prepared statements on a pool of their own (DATABASE_POOL_SIZE connections, beside
 * MikroORM's): PostgreSQL parses and plans each text once per connection instead of on every
 * request, the values travel apart from the text (none reaches pg_stat_activity or the server's
 * log), and a request skips the ORM's formatting of the query. Rows come back as MikroORM's raw
 * queries return them (the same type parsers), and errors as its exceptions.
 */
@Injectable()
export class PreparedStatements implements OnApplicationShutdown {
  private readonly logger = new Logger(PreparedStatements.name);
  private readonly pool: Pool;
  private readonly statements = new Map<string, Statement>();
  /** Part of every name: statements prepared before a schema change are never executed again. */
  private generation = 0;

  constructor(
    private readonly orm: MikroORM,
    @Inject(databaseConfig.KEY) db: ConfigType<typeof databaseConfig>,
  ) {
    // Host, credentials and the row parsers as MikroORM connects; the deadlines as its pool.
    const { host, port, user, password, database, types } = orm.em.getConnection().getConnectionOptions() as PoolConfig;
    this.pool = new Pool({
      host,
      port,
      user,
      password,
      database,
      types,
      ...connectionSettings(),
      max: db.poolSize,
      idleTimeoutMillis: POOL_TIMING.idleMs,
      connectionTimeoutMillis: POOL_TIMING.acquireMs,
    });
    // A connection that breaks emits "error" besides failing its query in flight, which rows()
    // handles; unheard, the event would end the process. Idle ones are dropped by the pool.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
    this.pool.on('error', (error) => this.logger.warn(`Idle PostgreSQL connection dropped (${(error as { code?: string }).code ?? error.name})`));
  }

  /**
   * The rows of `sql` (`?` placeholders, as in SqlFragment) with `params`. The text must be one of
   * a fixed few per call site, never built from input: it names the prepared statement.
   */
  async rows<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    const statement = this.statementFor(sql);
    const values = params as unknown[];
    try {
      return await this.run<T>({ name: statement.name, text: statement.text, values });
    } catch (error) {
      if (statement.name === undefined || !(error instanceof DatabaseError && mayBeStale(error))) throw this.converted(error);
    }
    // Refused before running anything, maybe because a migration changed a table under a prepared
    // statement (its result or parameter types). Parsed afresh, unnamed: if that runs, the named
    // statements are stale, and all are prepared anew under new names.
    try {
      const rows = await this.run<T>({ name: undefined, text: statement.text, values });
      this.forgetStatements();
      return rows;
    } catch (error) {
      throw this.converted(error);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }

  private async run<T>(query: { name: string | undefined; text: string; values: unknown[] }): Promise<T[]> {
    const client = await this.connect();
    try {
      const result = await client.query<T & object>(query);
      client.release();
      return result.rows;
    } catch (error) {
      // Only an error of the statement itself leaves the connection usable: not a lost socket,
      // not a server that ended the session (FATAL: shut down, backend terminated).
      client.release(error instanceof DatabaseError && !endsSession(error) ? undefined : (error as Error));
      throw error;
    }
  }

  /** As MikroORM's own queries fail: its exception for a server's error; no answer is an unavailable database. */
  private converted(error: unknown): Error {
    if (error instanceof ConnectionException) return error;
    if (!(error instanceof DatabaseError)) return new ConnectionException(error as Error);
    return this.orm.em.getDriver().convertException(error);
  }

  private async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      // No connection in time, or none could be opened: PostgreSQL is unavailable.
      throw new ConnectionException(error as Error);
    }
  }

  private statementFor(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (statement) return statement;
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    const named = this.statements.size < MAX_NAMED_STATEMENTS;
    statement = { name: named ? `hot_${this.generation}_${this.statements.size}` : undefined, text };
    if (named) this.statements.set(sql, statement);
    return statement;
  }

  private forgetStatements(): void {
    this.statements.clear();
    this.generation += 1;
  }
}

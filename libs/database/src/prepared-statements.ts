import { ConnectionException, MikroORM } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { DatabaseError, Pool, type PoolClient, type PoolConfig } from 'pg';
import { databaseConfig } from '@accounts/config';
import { connectionSettings, POOL_TIMING } from './connection.settings';

/** More distinct texts than the hot paths have means a text varies with input: run it unnamed. */
const MAX_NAMED_STATEMENTS = 100;

/** SQLSTATE 0A000 as PostgreSQL raises it for "cached plan must not change result type". */
const CACHED_PLAN_CHANGED = '0A000';

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
    for (let attempt = 1; ; attempt++) {
      const { name, text } = this.statementFor(sql);
      const client = await this.connect();
      try {
        const result = await client.query<T & object>({ name, text, values: params as unknown[] });
        client.release();
        return result.rows;
      } catch (error) {
        // A server-side error leaves a connection usable; anything else (a lost socket) does not.
        client.release(error instanceof DatabaseError ? undefined : (error as Error));
        // A migration changed a table under a prepared `select *`, and PostgreSQL refused before
        // running anything: every statement is prepared anew, under new names, on any connection.
        if (error instanceof DatabaseError && error.code === CACHED_PLAN_CHANGED && attempt === 1) {
          this.forgetStatements();
          continue;
        }
        throw this.orm.em.getDriver().convertException(error as Error);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
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

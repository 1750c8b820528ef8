import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Logger, Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { databaseConfig } from '@accounts/config';
import { withoutStatement } from './database-log.util';
import { socketWithDeadlines } from './database.socket';
import { ormOptions } from './orm.options';

/**
 * How long a request may wait on PostgreSQL before it is answered 503: for a free connection from
 * the pool, for a new connection, and for a query. The server cancels a statement after
 * STATEMENT_TIMEOUT_MS; a connection silent a second longer will not answer (the server hangs or
 * the network is gone), so its socket is closed and the connection discarded. Idle connections
 * leave the pool before that deadline would close them.
 */
const ACQUIRE_TIMEOUT_MS = 3_000;
const CONNECT_TIMEOUT_MS = 2_500;
const STATEMENT_TIMEOUT_MS = 4_000;
const SILENCE_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 1_000;
const IDLE_TIMEOUT_MS = STATEMENT_TIMEOUT_MS;

/** Knex's own notices (a pooled connection found dead and dropped) as log lines, not console output. */
const knexLogger = new Logger('Database');
const knexLog = {
  warn: (message: unknown) => knexLogger.warn(withoutStatement(message)),
  error: (message: unknown) => knexLogger.error(withoutStatement(message)),
  deprecate: (message: unknown) => knexLogger.warn(withoutStatement(message)),
  debug: () => undefined,
};

/** PostgreSQL through MikroORM. Each feature module registers its own entities with forFeature. */
@Module({
  imports: [
    MikroOrmModule.forRootAsync({
      driver: PostgreSqlDriver,
      inject: [databaseConfig.KEY],
      useFactory: (db: ConfigType<typeof databaseConfig>) => ({
        ...ormOptions(db.url, {
          pool: {
            min: 0,
            max: db.poolSize,
            acquireTimeoutMillis: ACQUIRE_TIMEOUT_MS,
            idleTimeoutMillis: IDLE_TIMEOUT_MS,
          },
          driverOptions: {
            log: knexLog,
            connection: {
              stream: socketWithDeadlines({ connectMs: CONNECT_TIMEOUT_MS, silenceMs: SILENCE_TIMEOUT_MS }),
              statement_timeout: STATEMENT_TIMEOUT_MS,
              keepAlive: true,
            },
          },
        }),
        autoLoadEntities: true,
        registerRequestContext: true,
      }),
    }),
  ],
})
export class DatabaseModule {}

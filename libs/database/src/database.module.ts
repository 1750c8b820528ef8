import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Logger, Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { databaseConfig } from '@accounts/config';
import { dropConnectionOnReadTimeout } from './connection-guard';
import { ormOptions } from './orm-options';

/**
 * How long a request may wait on PostgreSQL before it is answered 503: for a free connection from
 * the pool, for a new connection, and for a query. The server cancels a statement after
 * STATEMENT_TIMEOUT_MS; a reply that has not come a second later will not come (the server hangs
 * or the network is gone), so the client gives up and the connection is discarded.
 */
const ACQUIRE_TIMEOUT_MS = 3_000;
const CONNECT_TIMEOUT_MS = 3_000;
const STATEMENT_TIMEOUT_MS = 4_000;
const QUERY_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 1_000;

/** Knex's own notices (a pooled connection found dead and dropped) as log lines, not console output. */
const knexLogger = new Logger('Database');
const knexLog = {
  warn: (message: unknown) => knexLogger.warn(String(message)),
  error: (message: unknown) => knexLogger.error(String(message)),
  deprecate: (message: unknown) => knexLogger.warn(String(message)),
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
            afterCreate: (client: Parameters<typeof dropConnectionOnReadTimeout>[0], done: (error?: Error) => void) => {
              dropConnectionOnReadTimeout(client);
              done();
            },
          },
          driverOptions: {
            log: knexLog,
            connection: {
              connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
              statement_timeout: STATEMENT_TIMEOUT_MS,
              query_timeout: QUERY_TIMEOUT_MS,
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

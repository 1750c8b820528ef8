import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Global, Logger, Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { databaseConfig } from '@accounts/config';
import { withoutStatement } from './database-log.util';
import { connectionSettings, POOL_TIMING } from './connection.settings';
import { ormOptions } from './orm.options';
import { PreparedStatements } from './prepared-statements';

/** Knex's own notices (a pooled connection found dead and dropped) as log lines, not console output. */
const knexLogger = new Logger('Database');
const knexLog = {
  warn: (message: unknown) => knexLogger.warn(withoutStatement(message)),
  error: (message: unknown) => knexLogger.error(withoutStatement(message)),
  deprecate: (message: unknown) => knexLogger.warn(withoutStatement(message)),
  debug: () => undefined,
};

/**
 * PostgreSQL through MikroORM, and the hot paths' prepared statements beside it. Each feature
 * module registers its own entities with forFeature.
 */
@Global()
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
            acquireTimeoutMillis: POOL_TIMING.acquireMs,
            idleTimeoutMillis: POOL_TIMING.idleMs,
          },
          driverOptions: { log: knexLog, connection: connectionSettings() },
        }),
        autoLoadEntities: true,
        registerRequestContext: true,
      }),
    }),
  ],
  providers: [PreparedStatements],
  exports: [PreparedStatements],
})
export class DatabaseModule {}

import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { databaseConfig } from '@accounts/config';
import { ormOptions } from './orm-options';

/** PostgreSQL through MikroORM. Each feature module registers its own entities with forFeature. */
@Module({
  imports: [
    MikroOrmModule.forRootAsync({
      driver: PostgreSqlDriver,
      inject: [databaseConfig.KEY],
      useFactory: (db: ConfigType<typeof databaseConfig>) => ({
        ...ormOptions(db.url, {
          pool: { min: 0, max: db.poolSize, acquireTimeoutMillis: 3_000 },
          driverOptions: { connection: { connectionTimeoutMillis: 3_000, statement_timeout: 10_000 } },
        }),
        autoLoadEntities: true,
        registerRequestContext: true,
      }),
    }),
  ],
})
export class DatabaseModule {}

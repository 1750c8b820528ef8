import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { migrationsList } from './migrations';

/** MikroORM options shared by the api and the migration command. Schema changes come only from migrations. */
export function ormOptions(url: string, overrides: Options = {}): Options {
  return defineConfig({
    clientUrl: url,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    discovery: { warnWhenNoEntities: false },
    forceUtcTimezone: true,
    // Entities are listed per module (forFeature); nothing is discovered from folders.
    entities: [],
    ...overrides,
  });
}

import { defineConfig, type Options } from '@mikro-orm/postgresql';

/**
 * MikroORM options shared by the api, the probe and the migration command. Schema changes come
 * only from migrations; the Migrator is added by migrateDatabase alone, so the API does not load
 * @mikro-orm/migrations (umzug, fs-extra, the CLI libraries: ~250 modules).
 */
export function ormOptions(url: string, overrides: Options = {}): Options {
  return defineConfig({
    clientUrl: url,
    discovery: { warnWhenNoEntities: false },
    forceUtcTimezone: true,
    // Entities are listed per module (forFeature); nothing is discovered from folders.
    entities: [],
    ...overrides,
  });
}

import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import { migrationsList } from './migrations';
import { ormOptions } from './orm.options';

/**
 * Creates the database when it is missing and applies every pending migration.
 * Returns the names of the migrations applied.
 */
export async function migrateDatabase(url: string, { createIfMissing = true } = {}): Promise<string[]> {
  const orm = await MikroORM.init(
    ormOptions(url, {
      connect: false,
      debug: false,
      extensions: [Migrator],
      migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    }),
  );
  try {
    // ensureDatabase connects (to the management database first when it must create ours).
    if (createIfMissing) await orm.schema.ensureDatabase();
    if (!(await orm.isConnected())) await orm.connect();
    const applied = await orm.getMigrator().up();
    return applied.map((migration) => migration.name);
  } finally {
    await orm.close(true);
  }
}

import { ConfigError, configModuleFor, databaseConfig, redactUrl } from '@accounts/config';
// Its own entry point: the API's @accounts/database does not carry the Migrator.
import { migrateDatabase } from '@accounts/database/migrate';

/**
 * `npm run db:migrate`: creates the database when missing and applies pending migrations.
 * Deployments run it as a step of its own; the API never changes the schema at boot.
 */
async function main(): Promise<void> {
  let url: string;
  try {
    // Reads .env in development, as the API does (npm start against compose's PostgreSQL needs its password).
    await configModuleFor([databaseConfig]);
    url = databaseConfig().url;
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message);
    throw error;
  }
  try {
    const applied = await migrateDatabase(url);
    process.stdout.write(
      applied.length ? `migrate: applied ${applied.join(', ')}\n` : `migrate: ${redactUrl(url)} is up to date\n`,
    );
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    const unreachable = /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|timeout|connect/i.test(message);
    fail(
      unreachable
        ? `cannot reach PostgreSQL at ${redactUrl(url)} (start it, e.g. docker compose up -d postgres)`
        : `migration failed: ${message.split('\n')[0]}`,
    );
  }
}

function fail(line: string): never {
  process.stderr.write(`migrate: ${line}\n`);
  process.exit(1);
}

void main();

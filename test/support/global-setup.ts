import { migrateDatabase } from '../../libs/database/src/migrate';
import { missingPrerequisites } from './prerequisites';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './test-env';

/**
 * Says what the machine lacks before anything runs (one line each, with the command that fixes
 * it), then creates and migrates the test database once per run. Its name must end in `_test`.
 * Without PostgreSQL or Redis nothing end-to-end can pass, so the run stops; a missing redis-server
 * or Chromium fails only the suites that use them.
 */
export default async function globalSetup(): Promise<void> {
  const name = new URL(TEST_DATABASE_URL).pathname.slice(1);
  if (!name.endsWith('_test')) throw new Error(`Refusing to run tests against "${name}": the name must end in _test`);
  const missing = await missingPrerequisites({ databaseUrl: TEST_DATABASE_URL, redisUrl: TEST_REDIS_URL, chromiumPath: process.env.CHROMIUM_PATH, oathtoolPath: process.env.OATHTOOL_PATH });
  if (missing.length) {
    process.stderr.write(`\nnpm test: missing prerequisites (see "Prerequisites" in README.md):\n${missing.map((m) => `  - ${m.line}\n`).join('')}\n`);
  }
  if (missing.some((m) => m.fatal)) throw new Error('npm test needs PostgreSQL and Redis (see the lines above)');
  await migrateDatabase(TEST_DATABASE_URL);
}

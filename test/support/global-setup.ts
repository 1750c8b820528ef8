import { migrateDatabase } from '../../libs/database/src/migrate';
import { TEST_DATABASE_URL } from './test-env';

/** Creates and migrates the test database once per run. Its name must end in `_test`. */
export default async function globalSetup(): Promise<void> {
  const name = new URL(TEST_DATABASE_URL).pathname.slice(1);
  if (!name.endsWith('_test')) throw new Error(`Refusing to run tests against "${name}": the name must end in _test`);
  await migrateDatabase(TEST_DATABASE_URL);
}

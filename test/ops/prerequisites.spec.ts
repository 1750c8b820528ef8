import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingPrerequisites } from '../support/prerequisites';
import { freePort } from '../support/private-redis';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-env';

/** `npm test` names what the machine lacks before it runs anything, one line each with its fix. */
describe('ops: test prerequisites', () => {
  let empty: string;
  beforeAll(async () => {
    empty = await mkdtemp(join(tmpdir(), 'no-binaries-'));
  });
  afterAll(() => rm(empty, { recursive: true, force: true }));

  it('finds nothing missing on a machine that runs the suite', async () => {
    expect(await missingPrerequisites({ databaseUrl: TEST_DATABASE_URL, redisUrl: TEST_REDIS_URL, chromiumPath: process.execPath, oathtoolPath: process.execPath })).toEqual([]);
  });

  it('names an unreachable PostgreSQL and Redis, redis-server off PATH, a missing Chromium and oathtool, each with how to fix it', async () => {
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    const missing = await missingPrerequisites({
      databaseUrl: `postgres://postgres:secret-password@127.0.0.1:${pgPort}/accounts_test`,
      redisUrl: `redis://127.0.0.1:${redisPort}`,
      chromiumPath: join(empty, 'chromium'),
      oathtoolPath: join(empty, 'oathtool'),
      path: empty,
    });
    expect(missing).toEqual([
      {
        fatal: true,
        line: `PostgreSQL at postgres://postgres:***@127.0.0.1:${pgPort}/accounts_test (TEST_DATABASE_URL): nothing listens there; start it (docker compose up -d postgres, or sudo apt-get install postgresql) or set TEST_DATABASE_URL`,
      },
      {
        fatal: true,
        line: `Redis at redis://127.0.0.1:${redisPort} (TEST_REDIS_URL): nothing listens there; start it (docker compose up -d redis, or sudo apt-get install redis-server) or set TEST_REDIS_URL`,
      },
      { fatal: false, line: expect.stringMatching(/^redis-server is not on PATH .*: sudo apt-get install redis-server/) },
      { fatal: false, line: `no Chromium at ${join(empty, 'chromium')} (the browser suite drives it): sudo apt-get install chromium, or set CHROMIUM_PATH to a Chromium or Chrome binary` },
      { fatal: false, line: `no oathtool at ${join(empty, 'oathtool')} (the MFA suites check TOTP codes with it): sudo apt-get install oathtool, or set OATHTOOL_PATH` },
    ]);
    // The password of the URL is never printed.
    expect(JSON.stringify(missing)).not.toContain('secret-password');
  });
});

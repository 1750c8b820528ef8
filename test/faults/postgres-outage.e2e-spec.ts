import type { ApiResponse } from '../support/api-client';
import { captureOutput } from '../support/captured-output';
import { expectNoInternals, expectProblem } from '../support/security';
import { startStack, to, type Stack } from '../support/stack';
import { TEST_DATABASE_URL } from '../support/test-env';
import { strongPassword, uniqueEmail } from '../support/unique';
import { waitUntil } from '../support/polling';
import { TcpProxy } from '../support/tcp-proxy';

/** "Promptly": the spec says a few seconds; generous for a loaded machine, far from a hang. */
const PROMPTLY_MS = 8_000;

/**
 * PostgreSQL behind a TCP proxy the test controls, so it can disappear (connections dropped, new
 * ones refused) or hang (a black hole) and come back, while the API process keeps running.
 */
describe('fault 6: PostgreSQL unreachable', () => {
  let proxy: TcpProxy;
  let stack: Stack;
  let output: ReturnType<typeof captureOutput>;
  beforeAll(async () => {
    output = captureOutput();
    let proxiedUrl: string;
    ({ proxy, proxiedUrl } = await TcpProxy.inFrontOf(TEST_DATABASE_URL));
    // Warnings on: the database's notices about dropped connections are what the logs are checked for.
    stack = await startStack({ env: { DATABASE_URL: proxiedUrl, LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    output.restore();
    await proxy?.restore();
    await stack?.close();
    await proxy?.close();
  });

  /**
   * Knex logs a connection it drops with the error that ended it, whose message starts with the
   * statement in flight and its values: the database's notices keep only their label and class.
   */
  function expectNoStatementsInDatabaseNotices(): void {
    const notices = output.text().split('\n').filter((line) => line.includes('"context":"Database"'));
    const statements = notices.filter((line) => /\b(BEGIN|COMMIT|select|insert into|update|delete from)\b/i.test(line));
    expect(statements).toEqual([]);
  }

  /** Every kind of request that needs the database, as a signed-in user and anonymously. */
  async function requestsNeedingTheDatabase(account: { email: string; password: string; accessToken: string }) {
    const calls: Array<[string, () => Promise<ApiResponse>]> = [
      ['register', () => stack.api.post('/auth/register', { email: uniqueEmail('pg-down'), password: strongPassword() })],
      ['login', () => stack.api.post('/auth/login', { email: account.email, password: account.password })],
      ['forgot', () => stack.api.post('/auth/password/forgot', { email: account.email })],
      ['me', () => stack.api.get('/users/me', account.accessToken)],
      ['refresh', () => stack.api.post('/auth/refresh', { refreshToken: 'x'.repeat(43) })],
      ['confirm', () => stack.api.post('/auth/email/confirm', { token: 'x'.repeat(43) })],
    ];
    const observed: Record<string, number> = {};
    await Promise.all(
      calls.map(async ([name, call]) => {
        const started = Date.now();
        const answer = await call();
        const elapsed = Date.now() - started;
        observed[name] = elapsed;
        expect({ name, status: answer.status, body: answer.body }).toMatchObject({ status: 503, body: { code: 'SERVICE_UNAVAILABLE' } });
        expectProblem(answer, 503, 'SERVICE_UNAVAILABLE');
        expect(answer.headers.get('retry-after')).toBeTruthy();
        expectNoInternals(JSON.stringify(answer.body));
        expect({ name, elapsed, promptly: elapsed < PROMPTLY_MS }).toMatchObject({ promptly: true });
      }),
    );
    return observed;
  }

  async function signedInAccount() {
    const email = uniqueEmail('pg');
    const password = strongPassword();
    expect((await stack.api.post('/auth/register', { email, password })).status).toBe(201);
    const login = await stack.api.post('/auth/login', { email, password });
    expect(login.status).toBe(200);
    return { email, password, accessToken: login.body.accessToken as string };
  }

  async function expectHealth(ready: number, database: 'up' | 'down') {
    const live = await stack.api.request('GET', '/health/live');
    expect(live.status).toBe(200);
    const started = Date.now();
    const answer = await stack.api.request('GET', '/health/ready');
    expect(Date.now() - started).toBeLessThan(PROMPTLY_MS);
    expect({ status: answer.status, database: answer.body.checks?.database }).toEqual({ status: ready, database });
  }

  async function expectRecovered() {
    await waitUntil(async () => (await stack.api.request('GET', '/health/ready')).status === 200, 20_000, 'readiness to return');
    const account = await signedInAccount();
    expect((await stack.api.get('/users/me', account.accessToken)).status).toBe(200);
    await stack.sink.waitFor(to(account.email), 15_000);
  }

  it('server gone (connections dropped, new ones refused): 503 promptly, not ready but live, then recovers by itself', async () => {
    const account = await signedInAccount();
    await proxy.refuse();
    const timings = await requestsNeedingTheDatabase(account);
    await expectHealth(503, 'down');
    // Still unavailable on a second round (nothing cached a broken state as success or crashed).
    await requestsNeedingTheDatabase(account);
    process.stdout.write(`[fault] postgres refused: 503 in ms ${JSON.stringify(timings)}\n`);

    await proxy.restore();
    await expectRecovered();
    expectNoStatementsInDatabaseNotices();
  });

  it('server hanging (a black hole): 503 promptly instead of hanging, then recovers by itself', async () => {
    const account = await signedInAccount();
    proxy.blackhole();
    const timings = await requestsNeedingTheDatabase(account);
    await expectHealth(503, 'down');
    await requestsNeedingTheDatabase(account);
    process.stdout.write(`[fault] postgres black hole: 503 in ms ${JSON.stringify(timings)}\n`);

    await proxy.restore();
    await expectRecovered();
    expectNoStatementsInDatabaseNotices();
  });
});

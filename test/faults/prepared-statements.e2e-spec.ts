import { Client } from 'pg';
import { startStack, type Stack } from '../support/stack';
import { TEST_DATABASE_URL } from '../support/test-env';
import { strongPassword, uniqueEmail } from '../support/unique';

/**
 * The hot paths run as prepared statements on a pool of their own (libs/database/src/
 * prepared-statements.ts). A migration applied while the API runs (a rolling deploy) can change a
 * table under a statement prepared before it, and PostgreSQL may end any connection: the API
 * answers as before, or 503 while the database is away, never 500.
 */
describe('prepared statements of the hot paths', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true });
  });
  afterAll(async () => {
    await stack?.sql('alter table users drop column if exists added_while_running');
    await stack?.sql("select 1 from information_schema.columns where table_name = 'sessions' and column_name = 'ip' and data_type = 'inet'").then((inet) =>
      inet.length > 0 ? stack.sql('alter table sessions alter column ip type varchar(64) using host(ip)') : undefined,
    );
    await stack?.close();
  });

  async function signedIn(): Promise<{ email: string; password: string; accessToken: string; refreshToken: string }> {
    const email = uniqueEmail('prepared');
    const password = strongPassword();
    expect((await stack.api.post('/auth/register', { email, password })).status).toBe(201);
    const login = await stack.api.post('/auth/login', { email, password });
    expect(login.status).toBe(200);
    return { email, password, accessToken: login.body.accessToken, refreshToken: login.body.refreshToken };
  }

  it('keeps the bearer check, sign-in, refresh and forgot-password answering after a column is added to users', async () => {
    const account = await signedIn();
    expect((await stack.api.get('/users/me', account.accessToken)).status).toBe(200);
    expect((await stack.api.post('/auth/password/forgot', { email: account.email })).status).toBe(202);

    // Every prepared `select u.*` now has a result type PostgreSQL refuses to change (0A000).
    await stack.sql('alter table users add column added_while_running text');

    const me = await stack.api.get('/users/me', account.accessToken);
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(account.email);
    const again = await stack.api.post('/auth/login', { email: account.email, password: account.password });
    expect(again.status).toBe(200);
    expect((await stack.api.post('/auth/refresh', { refreshToken: again.body.refreshToken })).status).toBe(200);
    expect((await stack.api.post('/auth/password/forgot', { email: account.email })).status).toBe(202);
  });

  it('keeps refresh and sign-in answering after a column they bind a value to changes its type', async () => {
    const account = await signedIn();
    const first = await stack.api.post('/auth/refresh', { refreshToken: account.refreshToken });
    expect(first.status).toBe(200);

    // The refresh statement's `coalesce(?, s.ip)` was prepared with a varchar parameter (42804 now).
    await stack.sql('alter table sessions alter column ip type inet using ip::inet');

    let refreshToken = first.body.refreshToken as string;
    for (let i = 0; i < 3; i++) {
      const next = await stack.api.post('/auth/refresh', { refreshToken });
      expect(next.status).toBe(200);
      refreshToken = next.body.refreshToken;
    }
    expect((await stack.api.post('/auth/login', { email: account.email, password: account.password })).status).toBe(200);
  });

  it('answers 503 or as usual, never 500, when PostgreSQL ends its connections mid-statement and while idle', async () => {
    const account = await signedIn();
    const admin = new Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      // A forgot-password waits on the account row, so its connection is inside a statement when it ends.
      await admin.query('begin');
      await admin.query('select id from users where email_canonical = $1 for update', [account.email]);
      const waiting = stack.api.post('/auth/password/forgot', { email: account.email });
      const meanwhile = stack.api.get('/users/me', account.accessToken);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'");
      const answers = await Promise.all([
        waiting,
        meanwhile,
        stack.api.get('/users/me', account.accessToken),
        stack.api.post('/auth/login', { email: account.email, password: account.password }),
      ]);
      await admin.query('rollback');
      answers.push(await stack.api.get('/users/me', account.accessToken));
      for (const answer of answers) expect([200, 202, 503]).toContain(answer.status);
      // The connections PostgreSQL ended were dropped: the next requests find live ones.
      expect((await stack.api.get('/users/me', account.accessToken)).status).toBe(200);
      expect((await stack.api.post('/auth/password/forgot', { email: account.email })).status).toBe(202);
    } finally {
      await admin.end();
    }
  });
});

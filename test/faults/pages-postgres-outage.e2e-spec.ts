import { createHash } from 'node:crypto';
import { captureOutput } from '../support/captured-output';
import { createAccount } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { TcpProxy } from '../support/tcp-proxy';
import { TEST_DATABASE_URL } from '../support/test-env';

/**
 * The web pages while PostgreSQL is unreachable: they answer 503 in words with Retry-After, like
 * the API, and what they log about it holds no SQL, no address and no hash (a driver error's
 * message starts with the statement and its bound values).
 */
describe('fault: PostgreSQL unreachable, web pages', () => {
  let proxy: TcpProxy;
  let stack: Stack;
  let output: ReturnType<typeof captureOutput>;

  beforeAll(async () => {
    output = captureOutput();
    let proxiedUrl: string;
    ({ proxy, proxiedUrl } = await TcpProxy.inFrontOf(TEST_DATABASE_URL));
    stack = await startStack({ env: { DATABASE_URL: proxiedUrl, LOG_LEVEL: 'trace' }, withoutWorker: true });
  });
  afterAll(async () => {
    await proxy?.restore();
    await stack?.close();
    await proxy?.close();
    output.restore();
  });

  /** The browser session cookie's value, as the client holds it. */
  function sessionCookie(): string {
    const pair = stack.api
      .cookieHeader()
      .split('; ')
      .find((c) => /accounts_session=/.test(c));
    if (!pair) throw new Error('not signed in');
    return pair.slice(pair.indexOf('=') + 1);
  }

  const SQL = /\b(select|insert into|update|delete from)\b[^\n]*\b(from|set|values|where)\b/i;

  for (const outage of ['refused', 'hanging'] as const) {
    it(`answers GET /account and POST /login with a 503 page and logs no SQL, address or hash (server ${outage})`, async () => {
      const account = await createAccount(stack, { label: `pages-pg-${outage}` });
      stack.api.clearCookies();
      expect((await stack.api.form('/login', { email: account.email, password: account.password })).status).toBe(303);
      const cookie = sessionCookie();
      const csrf = await stack.api.csrfToken();
      const [passwordHash] = await stack.sql<{ password_hash: string }>('select password_hash from users where id = ?', [account.userId]);
      const logFrom = output.text().length;

      if (outage === 'refused') await proxy.refuse();
      else proxy.blackhole();
      try {
        const [accountPage, signIn] = await Promise.all([
          stack.api.request('GET', '/account'),
          stack.api.form('/login', { email: account.email, password: account.password, _csrf: csrf }),
        ]);
        for (const [name, page] of Object.entries({ accountPage, signIn })) {
          expect({ name, status: page.status }).toEqual({ name, status: 503 });
          expect({ name, type: page.headers.get('content-type') }).toEqual({ name, type: expect.stringMatching(/^text\/html/) });
          expect({ name, retryAfter: page.headers.get('retry-after') }).toEqual({ name, retryAfter: expect.stringMatching(/^\d+$/) });
          expect(page.body).toContain('try again');
          expect(page.body).not.toMatch(/[A-Z]+_[A-Z]+|SQLSTATE|ECONN|select /);
        }
      } finally {
        await proxy.restore();
      }

      const log = output.text().slice(logFrom);
      expect(log).toMatch(/Dependency unavailable: PostgreSQL/);
      const leaks = {
        sql: SQL.exec(log)?.[0],
        address: log.includes(account.email),
        cookie: log.includes(cookie),
        cookieHash: log.includes(createHash('sha256').update(cookie).digest('hex')),
        passwordHash: log.includes(passwordHash.password_hash) || /\$argon2id\$/.test(log),
      };
      expect(leaks).toEqual({ sql: undefined, address: false, cookie: false, cookieHash: false, passwordHash: false });
    });
  }
});

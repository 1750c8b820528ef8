import { BrowserCredentialsService, SessionsService } from '@accounts/auth';
import { AccountActivityService } from '@accounts/users';
import { PasswordHasher } from '../../libs/auth/src/password.hasher';
import { ApiClient } from '../support/api-client';
import { createAccount, expectProblem, signIn, type Account } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { sleep, waitUntil } from '../support/polling';

/**
 * An account deleted while other requests of it are on their way (SPEC §10): whichever wins, no
 * session or token of the deleted account survives, and no request answers 500.
 */
describe('fault 8: account deletion racing sign-in and refresh', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true });
  });
  afterAll(() => stack?.close());
  afterEach(() => jest.restoreAllMocks());

  const deleteAccount = (account: Account, accessToken: string) =>
    stack.api.request('DELETE', '/api/v1/users/me', { body: { currentPassword: account.password }, token: accessToken });

  /** Nothing of the account is left that could sign anyone in. */
  async function expectNothingLeft(account: Account): Promise<void> {
    expect(await stack.sql('select 1 from users where id = ?', [account.userId])).toEqual([]);
    expect(await stack.sql('select 1 from sessions where user_id = ?', [account.userId])).toEqual([]);
    expect(await stack.sql('select 1 from one_time_tokens where user_id = ?', [account.userId])).toEqual([]);
    // Credentials of sessions that no longer exist cannot exist either (foreign keys), so none of the account's is left.
    expect(await stack.sql('select 1 from refresh_tokens r left join sessions s on s.id = r.session_id where s.id is null')).toEqual([]);
    expect(await stack.sql('select 1 from browser_credentials b left join sessions s on s.id = b.session_id where s.id is null')).toEqual([]);
  }

  /** Holds the next call of `method` on `service` after it answered, until released. */
  function holdNext<T extends object>(service: T, method: keyof T & string) {
    const original = (service[method] as (...args: unknown[]) => Promise<unknown>).bind(service);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reached = false;
    jest.spyOn(service, method as never).mockImplementationOnce((async (...args: unknown[]) => {
      const result = await original(...args);
      reached = true;
      await gate;
      return result;
    }) as never);
    return { release, reached: () => waitUntil(async () => reached, 10_000, `${method} to answer`) };
  }

  /** Held after argon2 answered, before the sign-in goes on. */
  const holdNextVerify = () => holdNext(stack.apiApp.get(PasswordHasher, { strict: false }), 'verify');

  /** A sign-in with the right password, held after argon2 answered while the account is deleted. */
  async function signInAcrossDeletion(account: Account, accessToken: string) {
    const held = holdNextVerify();
    const login = stack.api.post('/auth/login', { email: account.email, password: account.password });
    await held.reached();
    expect((await deleteAccount(account, accessToken)).status).toBe(204);
    held.release();
    return login;
  }

  it('refuses a sign-in whose password was verified just before the account was deleted', async () => {
    const account = await createAccount(stack);
    const session = await signIn(stack, account.email, account.password);
    expectProblem(await signInAcrossDeletion(account, session.accessToken), 401, 'INVALID_CREDENTIALS');
    await expectNothingLeft(account);
    // The address is free: a new account with it signs in, the old password does not reach it.
    expect((await stack.api.post('/auth/register', { email: account.email, password: `${account.password} new` })).status).toBe(201);
    expectProblem(await stack.api.post('/auth/login', { email: account.email, password: account.password }), 401, 'INVALID_CREDENTIALS');
  });

  it('refuses a sign-in of an MFA account whose password was verified just before the account was deleted', async () => {
    const account = await createAccount(stack);
    const session = await signIn(stack, account.email, account.password);
    await stack.sql('update users set mfa_enabled_at = now() where id = ?', [account.userId]);
    // Not a 500 from the challenge's foreign key: as if the password had been wrong.
    expectProblem(await signInAcrossDeletion(account, session.accessToken), 401, 'INVALID_CREDENTIALS');
    expect(await stack.sql('select 1 from mfa_challenges where user_id = ?', [account.userId])).toEqual([]);
    await expectNothingLeft(account);
  });

  it('leaves no IP or user agent behind when a failed sign-in is recorded after the deletion', async () => {
    const account = await createAccount(stack);
    const session = await signIn(stack, account.email, account.password);
    const held = holdNextVerify();
    const login = stack.api.request('POST', '/api/v1/auth/login', {
      body: { email: account.email, password: 'wrong password racing 1' },
      headers: { 'user-agent': 'Racing-Agent/1.0 failed sign-in' },
    });
    await held.reached();
    expect((await deleteAccount(account, session.accessToken)).status).toBe(204);
    held.release();
    expectProblem(await login, 401, 'INVALID_CREDENTIALS');
    // The row is written apart from the answer: wait until that write is over.
    const activity = stack.apiApp.get(AccountActivityService);
    await activity.onApplicationShutdown();
    expect(await stack.sql("select 1 from account_activity where user_id = ? and type = 'signin.failed'", [account.userId])).toEqual([]);
    expect(await stack.sql('select 1 from account_activity where user_id = ? and (ip is not null or user_agent is not null)', [account.userId])).toEqual([]);
  });

  it.each([
    ['PATCH', '/users/me'],
    ['GET', '/users/me/export'],
  ])('answers %s %s 401 when the account is deleted after its session was checked', async (method, path) => {
    const account = await createAccount(stack);
    const session = await signIn(stack, account.email, account.password);
    // The guard found the session alive; the handler runs after the deletion.
    const held = holdNext(stack.apiApp.get(SessionsService), 'liveSessionUser');
    const request = stack.api.request(method, `/api/v1${path}`, { body: method === 'PATCH' ? { name: 'Racing' } : undefined, token: session.accessToken });
    await held.reached();
    expect((await deleteAccount(account, session.accessToken)).status).toBe(204);
    held.release();
    expectProblem(await request, 401, 'UNAUTHENTICATED');
    await expectNothingLeft(account);
  });

  it('answers GET /users/me from the row its session check read, before a deletion that commits meanwhile', async () => {
    const account = await createAccount(stack);
    const session = await signIn(stack, account.email, account.password);
    const held = holdNext(stack.apiApp.get(SessionsService), 'liveSessionUser');
    const request = stack.api.get('/users/me', session.accessToken);
    await held.reached();
    expect((await deleteAccount(account, session.accessToken)).status).toBe(204);
    held.release();
    // One consistent read (session and user in one statement) taken before the deletion: no 500.
    const answered = await request;
    expect(answered.status).toBe(200);
    expect(answered.body.user.id).toBe(account.userId);
    expectProblem(await stack.api.get('/users/me', session.accessToken), 401, 'UNAUTHENTICATED');
    await expectNothingLeft(account);
  });

  it('ends consistent when sign-ins, refreshes and the deletion arrive together, in either order', async () => {
    const ROUNDS = 8;
    const outcomes: Record<string, number> = {};
    const count = (key: string) => (outcomes[key] = (outcomes[key] ?? 0) + 1);
    await Promise.all(
      Array.from({ length: ROUNDS }, async (_, round) => {
        const account = await createAccount(stack, { label: 'race-delete' });
        const owner = await signIn(stack, account.email, account.password);
        const other = await signIn(stack, account.email, account.password);
        const [deletion, refresh, login] = await Promise.all([
          sleep((round % 4) * 3).then(() => deleteAccount(account, owner.accessToken)),
          sleep(((round + 1) % 4) * 3).then(() => stack.api.post('/auth/refresh', { refreshToken: other.refreshToken })),
          sleep(((round + 2) % 4) * 3).then(() => stack.api.post('/auth/login', { email: account.email, password: account.password })),
        ]);
        expect(deletion.status).toBe(204);
        count(`refresh-${refresh.status}`);
        count(`login-${login.status}`);
        if (refresh.status === 200) {
          // It won the race: the session it rotated went with the account.
          expectProblem(await stack.api.get('/users/me', refresh.body.accessToken), 401, 'UNAUTHENTICATED');
          expectProblem(await stack.api.post('/auth/refresh', { refreshToken: refresh.body.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
        } else {
          expectProblem(refresh, 401, 'INVALID_REFRESH_TOKEN');
        }
        if (login.status === 200) {
          expectProblem(await stack.api.get('/users/me', login.body.accessToken), 401, 'UNAUTHENTICATED');
          expectProblem(await stack.api.post('/auth/refresh', { refreshToken: login.body.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
        } else {
          expectProblem(login, 401, 'INVALID_CREDENTIALS');
        }
        await expectNothingLeft(account);
      }),
    );
    process.stdout.write(`deletion race outcomes: ${JSON.stringify(outcomes)}\n`);
  });

  it('answers a page sign-in in words when the account is deleted before the browser takes its session over', async () => {
    const account = await createAccount(stack);
    const session = await signIn(stack, account.email, account.password);
    const credentials = stack.apiApp.get(BrowserCredentialsService);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const original = credentials.adopt.bind(credentials);
    let reached = false;
    jest.spyOn(credentials, 'adopt').mockImplementationOnce(async (refreshToken: string) => {
      reached = true;
      await gate;
      return original(refreshToken);
    });
    const browser = new ApiClient(stack.api.baseUrl);
    const login = browser.form('/login', { email: account.email, password: account.password });
    await waitUntil(async () => reached, 10_000, 'the page sign-in to open its session');
    expect((await deleteAccount(account, session.accessToken)).status).toBe(204);
    release();
    const page = await login;
    expect(page.status).toBe(401);
    expect(page.body).toContain('The email or password is incorrect');
    expect(browser.cookie('accounts_session')).toBeUndefined();
    await expectNothingLeft(account);
  });

  it('deletes once when the same deletion is sent twice at once', async () => {
    const account = await createAccount(stack);
    const { accessToken } = await signIn(stack, account.email, account.password);
    const answers = await Promise.all([deleteAccount(account, accessToken), deleteAccount(account, accessToken)]);
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([204, 401]);
    expectProblem(answers.find((answer) => answer.status === 401)!, 401, 'UNAUTHENTICATED');
    const notices = await stack.sql(`select 1 from outbox where name = 'user.deleted' and payload->>'userId' = ?`, [account.userId]);
    expect(notices).toHaveLength(1);
    await expectNothingLeft(account);
  });
});

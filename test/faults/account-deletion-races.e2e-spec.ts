import { BrowserCredentialsService } from '@accounts/auth';
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

  it('refuses a sign-in whose password was verified just before the account was deleted', async () => {
    const account = await createAccount(stack);
    const session = await signIn(stack, account.email, account.password);
    // Held after argon2 said yes, before the session is opened.
    const hasher = stack.apiApp.get(PasswordHasher, { strict: false });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const original = hasher.verify.bind(hasher);
    let reached = false;
    jest.spyOn(hasher, 'verify').mockImplementationOnce(async (...args: Parameters<PasswordHasher['verify']>) => {
      const result = await original(...args);
      reached = true;
      await gate;
      return result;
    });
    const login = stack.api.post('/auth/login', { email: account.email, password: account.password });
    await waitUntil(async () => reached, 10_000, 'the sign-in past argon2');

    expect((await deleteAccount(account, session.accessToken)).status).toBe(204);
    release();
    expectProblem(await login, 401, 'INVALID_CREDENTIALS');
    await expectNothingLeft(account);
    // The address is free: a new account with it signs in, the old password does not reach it.
    expect((await stack.api.post('/auth/register', { email: account.email, password: `${account.password} new` })).status).toBe(201);
    expectProblem(await stack.api.post('/auth/login', { email: account.email, password: account.password }), 401, 'INVALID_CREDENTIALS');
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

import { startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/**
 * The hot paths run as prepared statements (libs/database/src/prepared-statements.ts). A migration
 * applied while the API runs (a rolling deploy) changes `users` under a prepared `select u.*`, and
 * PostgreSQL refuses the statement from then on ("cached plan must not change result type"): the
 * API prepares its statements anew and answers as before.
 */
describe('a migration applied while the API runs', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true });
  });
  afterAll(async () => {
    await stack?.sql('alter table users drop column if exists added_while_running');
    await stack?.close();
  });

  it('leaves the bearer check, sign-in, refresh and forgot-password answering after a column is added to users', async () => {
    const email = uniqueEmail('schema-change');
    const password = strongPassword();
    expect((await stack.api.post('/auth/register', { email, password })).status).toBe(201);
    const before = await stack.api.post('/auth/login', { email, password });
    expect(before.status).toBe(200);
    expect((await stack.api.get('/users/me', before.body.accessToken)).status).toBe(200);
    expect((await stack.api.post('/auth/password/forgot', { email })).status).toBe(202);

    await stack.sql('alter table users add column added_while_running text');

    const me = await stack.api.get('/users/me', before.body.accessToken);
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(email);
    const after = await stack.api.post('/auth/login', { email, password });
    expect(after.status).toBe(200);
    expect((await stack.api.post('/auth/refresh', { refreshToken: after.body.refreshToken })).status).toBe(200);
    expect((await stack.api.post('/auth/password/forgot', { email })).status).toBe(202);
  });
});

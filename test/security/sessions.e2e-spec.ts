import { expectDocumentedResponses } from '../support/openapi-contract';
import { createAccount, expectProblem, requestResetToken, signIn, type Session } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { strongPassword } from '../support/unique';

/**
 * Sessions and refresh tokens (ASVS 5.0 V7 session management, OWASP Session Management and JWT
 * cheat sheets): rotation with reuse detection, atomic under races, and credential changes that
 * end other sessions on their very next request.
 */
describe('security: sessions and refresh tokens', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  async function expectDead(session: Session, label: string) {
    const me = await stack.api.get('/users/me', session.accessToken);
    expect({ label, token: 'access', status: me.status }).toEqual({ label, token: 'access', status: 401 });
    expectProblem(me, 401, 'UNAUTHENTICATED');
    const refreshed = await stack.api.post('/auth/refresh', { refreshToken: session.refreshToken });
    expect({ label, token: 'refresh', status: refreshed.status }).toEqual({ label, token: 'refresh', status: 401 });
    expectProblem(refreshed, 401, 'INVALID_REFRESH_TOKEN');
  }

  async function expectAlive(session: Session, label: string): Promise<Session> {
    const me = await stack.api.get('/users/me', session.accessToken);
    expect({ label, token: 'access', status: me.status }).toEqual({ label, token: 'access', status: 200 });
    const refreshed = await stack.api.post('/auth/refresh', { refreshToken: session.refreshToken });
    expect({ label, token: 'refresh', status: refreshed.status }).toEqual({ label, token: 'refresh', status: 200 });
    return { accessToken: refreshed.body.accessToken, refreshToken: refreshed.body.refreshToken };
  }

  it('revokes the whole family when a spent refresh token is replayed: the thief and the owner both lose it', async () => {
    const account = await createAccount(stack, { label: 'sess-reuse' });
    const stolen = await signIn(stack, account.email, account.password);
    const other = await signIn(stack, account.email, account.password);

    const rotated = await stack.api.post('/auth/refresh', { refreshToken: stolen.refreshToken });
    expect(rotated.status).toBe(200);
    // The owner goes on using the family, rotating it once more.
    const newest = await expectAlive({ accessToken: rotated.body.accessToken, refreshToken: rotated.body.refreshToken }, 'successor');

    const replay = await stack.api.post('/auth/refresh', { refreshToken: stolen.refreshToken });
    expectProblem(replay, 401, 'INVALID_REFRESH_TOKEN');
    await expectDead(newest, 'newest token of the family after the replay');
    // Another session of the same user is not part of the family.
    await expectAlive(other, 'unrelated session');
  });

  it('lets exactly one of ten parallel refreshes win, and the losers revoke the winner\'s new tokens', async () => {
    const account = await createAccount(stack, { label: 'sess-race' });
    const { refreshToken } = await signIn(stack, account.email, account.password);
    const answers = await Promise.all(Array.from({ length: 10 }, () => stack.api.post('/auth/refresh', { refreshToken })));
    const winners = answers.filter((a) => a.status === 200);
    expect(winners).toHaveLength(1);
    for (const loser of answers.filter((a) => a.status !== 200)) expectProblem(loser, 401, 'INVALID_REFRESH_TOKEN');
    await expectDead({ accessToken: winners[0].body.accessToken, refreshToken: winners[0].body.refreshToken }, 'winner after the race');
  });

  it('a password reset ends every session on its very next request and signs nobody in', async () => {
    const account = await createAccount(stack, { label: 'sess-reset' });
    const sessions = [await signIn(stack, account.email, account.password), await signIn(stack, account.email, account.password)];
    const token = await requestResetToken(stack, account.email);
    const newPassword = strongPassword();

    const reset = await stack.api.post('/auth/password/reset', { token, password: newPassword });
    expect(reset.status).toBe(204);
    expect(reset.body).toBe('');
    expect(reset.headers.get('set-cookie')).toBeNull();
    for (const [i, session] of sessions.entries()) await expectDead(session, `session ${i} after reset`);
    const live = await stack.sql<{ n: number }>('select count(*)::int as n from sessions where user_id = ? and revoked_at is null', [account.userId]);
    expect(live[0].n).toBe(0);
    expect((await stack.api.post('/auth/login', { email: account.email, password: newPassword })).status).toBe(200);
  });

  it("a password change ends the user's other sessions on their very next request and keeps the caller's", async () => {
    const account = await createAccount(stack, { label: 'sess-change' });
    const caller = await signIn(stack, account.email, account.password);
    const others = [await signIn(stack, account.email, account.password), await signIn(stack, account.email, account.password)];
    const bystander = await createAccount(stack, { label: 'sess-bystander' });
    const bystanderSession = await signIn(stack, bystander.email, bystander.password);

    const newPassword = strongPassword();
    const change = await stack.api.post('/auth/password/change', { currentPassword: account.password, newPassword }, caller.accessToken);
    expect(change.status).toBe(204);
    for (const [i, session] of others.entries()) await expectDead(session, `other session ${i} after change`);
    await expectAlive(caller, 'caller after change');
    await expectAlive(bystanderSession, "another user's session");
  });

  it('refuses a password change with a wrong current password and leaves every session alive', async () => {
    const account = await createAccount(stack, { label: 'sess-change-wrong' });
    const caller = await signIn(stack, account.email, account.password);
    const other = await signIn(stack, account.email, account.password);
    const change = await stack.api.post('/auth/password/change', { currentPassword: strongPassword(), newPassword: strongPassword() }, caller.accessToken);
    expectProblem(change, 400, 'INVALID_CREDENTIALS');
    await expectAlive(other, 'other session after a failed change');
    expect((await stack.api.post('/auth/login', { email: account.email, password: account.password })).status).toBe(200);
  });
});

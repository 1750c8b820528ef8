import { expectDocumentedResponses } from './support/openapi-contract';
import { startStack, type Stack } from './support/stack';
import { strongPassword, uniqueEmail } from './support/unique';

describe('sessions and refresh tokens', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true });
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  async function account() {
    const email = uniqueEmail('session');
    const password = strongPassword();
    await stack.api.post('/auth/register', { email, password });
    const signIn = async (userAgent = 'jest') =>
      (await stack.api.request('POST', '/api/v1/auth/login', { body: { email, password }, headers: { 'user-agent': userAgent } })).body as {
        accessToken: string;
        refreshToken: string;
      };
    return { email, password, signIn };
  }

  it('rotates the refresh token: the new one works, the old one is spent', async () => {
    const { signIn } = await account();
    const first = await signIn();
    const refreshed = await stack.api.post('/auth/refresh', { refreshToken: first.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get('cache-control')).toBe('no-store');
    expect(refreshed.body.refreshToken).not.toBe(first.refreshToken);
    expect((await stack.api.get('/users/me', refreshed.body.accessToken)).status).toBe(200);
    const next = await stack.api.post('/auth/refresh', { refreshToken: refreshed.body.refreshToken });
    expect(next.status).toBe(200);
  });

  it('ends the whole family when a spent refresh token comes back', async () => {
    const { signIn } = await account();
    const first = await signIn();
    const second = (await stack.api.post('/auth/refresh', { refreshToken: first.refreshToken })).body;

    const replay = await stack.api.post('/auth/refresh', { refreshToken: first.refreshToken });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('INVALID_REFRESH_TOKEN');
    expect((await stack.api.post('/auth/refresh', { refreshToken: second.refreshToken })).status).toBe(401);
    expect((await stack.api.get('/users/me', second.accessToken)).status).toBe(401);
  });

  it("a refresh answers the session's user and touches the session: last use, address and user agent move, its start and lifetime do not", async () => {
    const { email, signIn } = await account();
    const first = await signIn('agent-before');
    const [before] = (await stack.sql<{ created_at: string; last_used_at: string; expires_at: string; user_agent: string }>(
      `select s.* from sessions s join users u on u.id = s.user_id where u.email = ?`,
      [email],
    ));
    const refreshed = await stack.api.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: first.refreshToken },
      headers: { 'user-agent': 'agent-after' },
    });
    expect(refreshed.status).toBe(200);
    const body = refreshed.body as { user: { email: string; emailConfirmed: boolean; mfaEnabled: boolean }; tokenType: string; expiresIn: number };
    expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { email, emailConfirmed: false, mfaEnabled: false } });
    const [after] = (await stack.sql<{ created_at: string; last_used_at: string; expires_at: string; user_agent: string }>(
      `select s.* from sessions s join users u on u.id = s.user_id where u.email = ?`,
      [email],
    ));
    expect(after.user_agent).toBe('agent-after');
    const time = (at: string) => new Date(at).getTime();
    expect(time(after.last_used_at)).toBeGreaterThan(time(before.last_used_at));
    expect(time(after.created_at)).toBe(time(before.created_at));
    expect(time(after.expires_at)).toBe(time(before.expires_at));
  });

  it('refuses the refresh token of a session that ended, without counting it as a replayed token', async () => {
    const { signIn } = await account();
    const other = await signIn();
    const first = await signIn();
    expect((await stack.api.post('/auth/logout', { refreshToken: first.refreshToken })).status).toBe(204);
    const answer = await stack.api.post('/auth/refresh', { refreshToken: first.refreshToken });
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('INVALID_REFRESH_TOKEN');
    // The token was live when it came: nothing else of the user's ends.
    expect((await stack.api.post('/auth/refresh', { refreshToken: other.refreshToken })).status).toBe(200);
  });

  it('lets exactly one of ten parallel refreshes with one token succeed', async () => {
    const { signIn } = await account();
    const { refreshToken } = await signIn();
    const answers = await Promise.all(Array.from({ length: 10 }, () => stack.api.post('/auth/refresh', { refreshToken })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(9);
  });

  it('refuses an unknown refresh token', async () => {
    const answer = await stack.api.post('/auth/refresh', { refreshToken: 'A'.repeat(43) });
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('INVALID_REFRESH_TOKEN');
  });

  it('refuses a refresh token past the session lifetime', async () => {
    const { signIn } = await account();
    const { refreshToken, accessToken } = await signIn();
    const me = await stack.api.get('/users/me', accessToken);
    await stack.sql(`update sessions set expires_at = now() - interval '1 second' where user_id = ?`, [me.body.user.id]);
    expect((await stack.api.post('/auth/refresh', { refreshToken })).status).toBe(401);
    expect((await stack.api.get('/users/me', accessToken)).status).toBe(401);
  });

  it('logs out: that session ends at once, unknown tokens answer 204 too', async () => {
    const { signIn } = await account();
    const session = await signIn();
    const other = await signIn();
    expect((await stack.api.post('/auth/logout', { refreshToken: session.refreshToken })).status).toBe(204);
    expect((await stack.api.get('/users/me', session.accessToken)).status).toBe(401);
    expect((await stack.api.post('/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(401);
    expect((await stack.api.get('/users/me', other.accessToken)).status).toBe(200);
    expect((await stack.api.post('/auth/logout', { refreshToken: 'B'.repeat(43) })).status).toBe(204);
  });

  it('lists sessions, ends one by id, and signs out everywhere', async () => {
    const { signIn } = await account();
    const laptop = await signIn('laptop');
    const phone = await signIn('phone');

    const list = await stack.api.get('/auth/sessions', laptop.accessToken);
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(2);
    const current = list.body.find((s: { current: boolean }) => s.current);
    expect(current.userAgent).toBe('laptop');
    expect(current.ip).toBe('127.0.0.1');
    const phoneSession = list.body.find((s: { current: boolean }) => !s.current);
    expect(phoneSession).toMatchObject({ userAgent: 'phone', createdAt: expect.any(String), lastUsedAt: expect.any(String) });

    expect((await stack.api.delete(`/auth/sessions/${phoneSession.id}`, laptop.accessToken)).status).toBe(204);
    expect((await stack.api.get('/users/me', phone.accessToken)).status).toBe(401);
    expect((await stack.api.delete(`/auth/sessions/${phoneSession.id}`, laptop.accessToken)).status).toBe(404);
    expect((await stack.api.delete('/auth/sessions/not-a-uuid', laptop.accessToken)).status).toBe(404);

    const third = await signIn('tablet');
    expect((await stack.api.delete('/auth/sessions', laptop.accessToken)).status).toBe(204);
    expect((await stack.api.get('/users/me', laptop.accessToken)).status).toBe(401);
    expect((await stack.api.get('/users/me', third.accessToken)).status).toBe(401);
  });

  it("cannot end another user's session", async () => {
    const alice = await (await account()).signIn();
    const bob = await (await account()).signIn();
    const bobSessions = await stack.api.get('/auth/sessions', bob.accessToken);
    const answer = await stack.api.delete(`/auth/sessions/${bobSessions.body[0].id}`, alice.accessToken);
    expect(answer.status).toBe(404);
    expect((await stack.api.get('/users/me', bob.accessToken)).status).toBe(200);
  });

  it('refuses requests without a valid bearer token', async () => {
    for (const header of [undefined, 'Bearer', 'Bearer not.a.jwt', 'Basic dXNlcjpwYXNz']) {
      const answer = await stack.api.request('GET', '/api/v1/users/me', { headers: header ? { authorization: header } : {} });
      expect(answer.status).toBe(401);
      expect(answer.body.code).toBe('UNAUTHENTICATED');
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    }
  });
});

import { randomUUID } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { MAIL_QUEUE } from '@accounts/mail/contract';
import { AccountActivityPurger } from '@accounts/users';
import { createAccount, expectProblem, nextMail, requestResetToken, signIn, type Account } from './support/security';
import { startStack, type Stack } from './support/stack';
import { strongPassword, uniqueEmail } from './support/unique';
import { pollUntil, waitUntil } from './support/polling';

/** SPEC §10 through the API: profile, activity, export and deletion. */
describe('account lifecycle', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  const typesOf = async (token: string) => ((await stack.api.get('/users/me/activity?limit=100', token)).body.items as Array<{ type: string }>).map((item) => item.type);

  describe('PATCH /users/me', () => {
    it('sets the name, trimmed, and clears it with null', async () => {
      const account = await createAccount(stack, { name: 'Ada' });
      const { accessToken } = await signIn(stack, account.email, account.password);
      const renamed = await stack.api.request('PATCH', '/api/v1/users/me', { body: { name: '  Grace Hopper ' }, token: accessToken });
      expect(renamed.status).toBe(200);
      expect(renamed.body.user).toMatchObject({ id: account.userId, email: account.email, name: 'Grace Hopper' });
      expect((await stack.api.get('/users/me', accessToken)).body.user.name).toBe('Grace Hopper');
      const cleared = await stack.api.request('PATCH', '/api/v1/users/me', { body: { name: null }, token: accessToken });
      expect(cleared.status).toBe(200);
      expect(cleared.body.user.name).toBeNull();
    });

    it('refuses what registration refuses, a missing name and unknown fields, with 400', async () => {
      const account = await createAccount(stack);
      const { accessToken } = await signIn(stack, account.email, account.password);
      for (const body of [{ name: '' }, { name: '   ' }, { name: 'x'.repeat(101) }, { name: 'Ada\nBcc: eve' }, { name: 'Ada\u0000' }, { name: 42 }, { name: ['Ada'] }, {}, { name: 'Ada', email: 'eve@example.com' }]) {
        const refused = await stack.api.request('PATCH', '/api/v1/users/me', { body, token: accessToken });
        expectProblem(refused, 400, 'VALIDATION_FAILED');
      }
      expect((await stack.api.get('/users/me', accessToken)).body.user.name).toBeNull();
    });

    it('needs a live bearer token', async () => {
      expectProblem(await stack.api.request('PATCH', '/api/v1/users/me', { body: { name: 'Eve' } }), 401, 'UNAUTHENTICATED');
    });
  });

  describe('activity', () => {
    it('records sign-ins, failed ones, password and session events with the client, newest first', async () => {
      const account = await createAccount(stack);
      const headers = { 'user-agent': 'LifecycleTest/1.0' };
      const first = await stack.api.request('POST', '/api/v1/auth/login', { body: { email: account.email, password: account.password }, headers });
      const token = first.body.accessToken as string;
      expect((await stack.api.post('/auth/login', { email: account.email, password: 'not the password at all' })).status).toBe(401);
      // Recorded apart from the answer, so that it costs nothing the caller could time.
      await pollUntil(() => typesOf(token), (types) => types.includes('signin.failed'));

      const second = await signIn(stack, account.email, account.password);
      const sessions = (await stack.api.get('/auth/sessions', token)).body as Array<{ id: string; current: boolean }>;
      const other = sessions.find((s) => !s.current)!;
      expect((await stack.api.delete(`/auth/sessions/${other.id}`, token)).status).toBe(204);
      const third = await signIn(stack, account.email, account.password);
      expect((await stack.api.post('/auth/logout', { refreshToken: third.refreshToken })).status).toBe(204);
      // A replayed logout ends nothing and records nothing.
      expect((await stack.api.post('/auth/logout', { refreshToken: third.refreshToken })).status).toBe(204);
      const newPassword = strongPassword();
      expect((await stack.api.post('/auth/password/change', { currentPassword: account.password, newPassword }, token)).status).toBe(204);

      const page = await stack.api.get('/users/me/activity', token);
      expect(page.status).toBe(200);
      expect(page.body.next).toBeNull();
      const items = page.body.items as Array<{ id: string; type: string; at: string; ip: string | null; userAgent: string | null }>;
      expect(items.map((item) => item.type)).toEqual([
        'password.changed',
        'session.revoked',
        'signin.succeeded',
        'session.revoked',
        'signin.succeeded',
        'signin.failed',
        'signin.succeeded',
      ]);
      expect(items.at(-1)).toMatchObject({ ip: '127.0.0.1', userAgent: 'LifecycleTest/1.0', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
      const ids = items.map((item) => BigInt(item.id));
      expect([...ids].sort((a, b) => (a > b ? -1 : 1))).toEqual(ids);
      expect(second.accessToken).toEqual(expect.any(String));

      expect((await stack.api.delete('/auth/sessions', token)).status).toBe(204);
      const after = await signIn(stack, account.email, newPassword);
      expect((await typesOf(after.accessToken)).slice(0, 2)).toEqual(['signin.succeeded', 'sessions.revoked_all']);
    });

    it('records a password reset, and never a failed sign-in for an unknown address', async () => {
      const account = await createAccount(stack);
      const token = await requestResetToken(stack, account.email);
      const password = strongPassword();
      expect((await stack.api.post('/auth/password/reset', { token, password })).status).toBe(204);
      const { accessToken } = await signIn(stack, account.email, password);
      expect(await typesOf(accessToken)).toEqual(['signin.succeeded', 'password.reset']);
    });

    it('pages with limit and before, and refuses bad values with 400', async () => {
      const account = await createAccount(stack);
      let token = '';
      for (let i = 0; i < 5; i++) token = (await signIn(stack, account.email, account.password)).accessToken;
      const first = await stack.api.get('/users/me/activity?limit=2', token);
      expect(first.body.items).toHaveLength(2);
      expect(first.body.next).toBe(first.body.items[1].id);
      const second = await stack.api.get(`/users/me/activity?limit=2&before=${first.body.next}`, token);
      const third = await stack.api.get(`/users/me/activity?limit=2&before=${second.body.next}`, token);
      expect(third.body.items).toHaveLength(1);
      expect(third.body.next).toBeNull();
      const all = [...first.body.items, ...second.body.items, ...third.body.items].map((item: { id: string }) => item.id);
      expect(new Set(all).size).toBe(5);

      for (const query of ['limit=0', 'limit=101', 'limit=abc', 'limit=1.5', 'limit=-1', 'limit=', 'limit=1&limit=2', 'before=0', 'before=abc', 'before=-5', 'before=99999999999999999999', 'before=9223372036854775808', 'before=', 'cursor=1']) {
        expectProblem(await stack.api.get(`/users/me/activity?${query}`, token), 400, 'VALIDATION_FAILED');
      }
      expect((await stack.api.get('/users/me/activity?before=9223372036854775807&limit=100', token)).body.items).toHaveLength(5);
    });

    it('deletes rows older than AUDIT_RETENTION, in batches, and keeps newer ones', async () => {
      const userId = randomUUID();
      await stack.sql(
        `insert into account_activity (user_id, type, at) select ?, 'signin.succeeded', now() - interval '200 days' from generate_series(1, 2500)`,
        [userId],
      );
      await stack.sql(`insert into account_activity (user_id, type, at) values (?, 'signin.failed', now() - interval '179 days')`, [userId]);
      const deleted = await stack.apiApp.get(AccountActivityPurger).purge();
      expect(deleted).toBeGreaterThanOrEqual(2500);
      expect(await stack.sql('select type from account_activity where user_id = ?', [userId])).toEqual([{ type: 'signin.failed' }]);
    });
  });

  describe('GET /users/me/export', () => {
    it('holds the profile, every session, emailed links and activity; no hash or token; not cached', async () => {
      const account = await createAccount(stack, { name: 'Ada' });
      const session = await signIn(stack, account.email, account.password);
      await requestResetToken(stack, account.email);
      const exported = await stack.api.get('/users/me/export', session.accessToken);
      expect(exported.status).toBe(200);
      expect(exported.headers.get('cache-control')).toBe('no-store');
      expect(exported.body).toMatchObject({
        exportedAt: expect.any(String),
        profile: { id: account.userId, email: account.email, name: 'Ada', emailConfirmed: true, emailConfirmedAt: expect.any(String), updatedAt: expect.any(String) },
        sessions: [{ id: expect.any(String), revokedAt: null, ip: '127.0.0.1', expiresAt: expect.any(String) }],
        emailedLinks: [{ purpose: 'password_reset', usedAt: null }],
        activity: [{ type: 'signin.succeeded' }],
      });
      const [{ password_hash: hash }] = await stack.sql<{ password_hash: string }>('select password_hash from users where id = ?', [account.userId]);
      const text = JSON.stringify(exported.body);
      expect(text).not.toContain(hash);
      expect(text).not.toContain(session.refreshToken);
      expect(text).not.toMatch(/argon2|hash|token/i);
    });
  });

  describe('DELETE /users/me', () => {
    it('needs the current password and a live bearer token', async () => {
      const account = await createAccount(stack);
      const { accessToken } = await signIn(stack, account.email, account.password);
      expectProblem(await stack.api.request('DELETE', '/api/v1/users/me', { body: { currentPassword: 'wrong password here' }, token: accessToken }), 400, 'INVALID_CREDENTIALS');
      // Left out, it counts as wrong: only an account without a password may send {} (SPEC §12).
      expectProblem(await stack.api.request('DELETE', '/api/v1/users/me', { body: {}, token: accessToken }), 400, 'INVALID_CREDENTIALS');
      expectProblem(await stack.api.request('DELETE', '/api/v1/users/me', { token: accessToken }), 400, 'INVALID_CREDENTIALS');
      expectProblem(await stack.api.request('DELETE', '/api/v1/users/me', { body: { currentPassword: '' }, token: accessToken }), 400, 'VALIDATION_FAILED');
      expectProblem(await stack.api.request('DELETE', '/api/v1/users/me', { body: { currentPassword: account.password } }), 401, 'UNAUTHENTICATED');
      expect((await stack.api.get('/users/me', accessToken)).status).toBe(200);
    });

    it('deletes the account with its sessions and links, keeps only the id in its activity, mails user.deleted, frees the address', async () => {
      const account = await createAccount(stack, { name: 'Ada' });
      const session = await signIn(stack, account.email, account.password);
      const other = await signIn(stack, account.email, account.password);
      await requestResetToken(stack, account.email);
      const notice = nextMail(stack.sink, account.email, /deleted/i);

      const deleted = await stack.api.request('DELETE', '/api/v1/users/me', { body: { currentPassword: account.password }, token: session.accessToken });
      expect(deleted.status).toBe(204);

      for (const table of ['users where id', 'sessions where user_id', 'one_time_tokens where user_id']) {
        expect(await stack.sql(`select 1 from ${table} = ?`, [account.userId])).toEqual([]);
      }
      expectProblem(await stack.api.get('/users/me', session.accessToken), 401, 'UNAUTHENTICATED');
      expectProblem(await stack.api.get('/users/me', other.accessToken), 401, 'UNAUTHENTICATED');
      expectProblem(await stack.api.post('/auth/refresh', { refreshToken: other.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
      expectProblem(await stack.api.post('/auth/login', { email: account.email, password: account.password }), 401, 'INVALID_CREDENTIALS');

      const activity = await stack.sql<{ ip: string | null; user_agent: string | null }>('select ip, user_agent from account_activity where user_id = ?', [account.userId]);
      expect(activity.length).toBeGreaterThanOrEqual(2);
      expect(activity.every((row) => row.ip === null && row.user_agent === null)).toBe(true);

      const mail = await notice;
      expect(mail.subject).toMatch(/account was deleted/);
      expect(mail.text).not.toContain('Ada');
      // Only the notice is left in the outbox about the account, and it names nobody.
      const outbox = await stack.sql<{ name: string; payload: { name: string | null } }>(`select name, payload from outbox where payload->>'userId' = ?`, [account.userId]);
      expect(outbox).toEqual([{ name: 'user.deleted', payload: { v: 1, userId: account.userId, email: account.email, name: null } }]);

      const again = await stack.api.post('/auth/register', { email: account.email, password: strongPassword() });
      expect(again.status).toBe(201);
      expect(again.body.user.id).not.toBe(account.userId);
    });

    it("removes the account's failed mail jobs from Redis, and nobody else's", async () => {
      const account = await createAccount(stack, { name: 'Ada' });
      const bystander = randomUUID();
      const queue = stack.apiApp.get<Queue>(getQueueToken(MAIL_QUEUE));
      // An event the worker does not know fails at once and is kept in the failed set, address and name included.
      const failing = async (userId: string) =>
        (await queue.add('no.such-event', { v: 1, userId, email: account.email, name: 'Ada' }, { attempts: 1 })).id!;
      const mine = await failing(account.userId);
      const theirs = await failing(bystander);
      const failedIds = async () => (await queue.getFailed()).map((job) => job.id);
      await waitUntil(async () => (await failedIds()).includes(mine) && (await failedIds()).includes(theirs), 15_000, 'both jobs to fail');

      const { accessToken } = await signIn(stack, account.email, account.password);
      expect((await stack.api.request('DELETE', '/api/v1/users/me', { body: { currentPassword: account.password }, token: accessToken })).status).toBe(204);
      await waitUntil(async () => !(await failedIds()).includes(mine), 15_000, "the deleted account's failed job to go");
      expect(await failedIds()).toContain(theirs);
    });
  });
});

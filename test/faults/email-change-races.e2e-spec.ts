import { MikroORM } from '@mikro-orm/core';
import { ApiClient, type ApiResponse } from '../support/api-client';
import { changeEmail, requestChangeToken } from '../support/email-change';
import { sleep, waitUntil } from '../support/polling';
import { createAccount, expectProblem, requestResetToken, signIn } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/**
 * Racing requests on one email change (SPEC §10): every race ends in a state one of the requests
 * alone would have left, and no request answers 500.
 */
describe('fault: email change races', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  async function stateOf(userId: string) {
    const [user] = await stack.sql<{ email: string }>('select email from users where id = ?', [userId]);
    const changed = await stack.sql(`select id from outbox where name = 'email.changed' and payload->>'userId' = ?`, [userId]);
    const undoLinks = await stack.sql(`select id from one_time_tokens where user_id = ? and purpose = 'email_change_undo'`, [userId]);
    return { email: user.email, changedEvents: changed.length, undoLinks: undoLinks.length };
  }

  /**
   * Holds the account row (FOR NO KEY UPDATE, as every flow that changes the account takes it) in
   * a transaction of the test's own until `release` is called, so requests pile up behind it.
   */
  async function holdAccount(userId: string) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    const done = stack.apiApp
      .get(MikroORM)
      .em.fork()
      .transactional(async (em) => {
        await em.getConnection().execute('select id from users where id = ? for no key update', [userId], 'all', em.getTransactionContext());
        held();
        await released;
      });
    await holding;
    // A second waiter queues behind the first (a tuple lock), not behind the holder: count every
    // backend of this database that waits for a lock.
    const waiting = async (count: number) =>
      waitUntil(
        async () =>
          (await stack.sql(`select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).length === count,
        15_000,
        `${count} requests waiting for the account row`,
      );
    return { waiting, release: async () => (release(), await done) };
  }

  it('queues parallel change requests behind the account row, so each link supersedes the one before and one stays live', async () => {
    const account = await createAccount(stack, { label: 'race-request' });
    const session = await signIn(stack, account.email, account.password);
    const held = await holdAccount(account.userId);
    const asked = Promise.all(
      [1, 2, 3].map((i) => stack.api.post('/users/me/email', { newEmail: uniqueEmail(`race-request-${i}`), currentPassword: account.password }, session.accessToken)),
    );
    await held.waiting(3);
    await held.release();
    expect((await asked).map((a) => a.status)).toEqual([202, 202, 202]);
    const live = await stack.sql(`select id from one_time_tokens where user_id = ? and purpose = 'email_change' and used_at is null`, [account.userId]);
    expect(live).toHaveLength(1);
  });

  it('issues no change link for a request whose password check a reset overtook', async () => {
    const account = await createAccount(stack, { label: 'race-request-reset' });
    const session = await signIn(stack, account.email, account.password);
    const reset = await requestResetToken(stack, account.email);
    const held = await holdAccount(account.userId);
    const resetting = stack.api.post('/auth/password/reset', { token: reset, password: strongPassword() });
    await held.waiting(1);
    const asked = stack.api.post('/users/me/email', { newEmail: uniqueEmail('race-request-reset-new'), currentPassword: account.password }, session.accessToken);
    await held.waiting(2);
    await held.release();
    expect((await resetting).status).toBe(204);
    expectProblem(await asked, 401, 'UNAUTHENTICATED');
    expect(await stack.sql(`select id from one_time_tokens where user_id = ? and purpose = 'email_change'`, [account.userId])).toEqual([]);
  });

  it('opens no session for a sign-in whose password check an undo overtook, nor for one racing it freely', async () => {
    const account = await createAccount(stack, { label: 'race-login-undo' });
    const attacker = await signIn(stack, account.email, account.password);
    const b = uniqueEmail('race-login-undo-b');
    const undo = await changeEmail(stack, account, attacker, b);
    const held = await holdAccount(account.userId);
    const undoing = stack.api.post('/auth/email/change/undo', { token: undo });
    await held.waiting(1);
    // The attacker's password was verified before the undo commits; the session would open after.
    const login = stack.api.post('/auth/login', { email: b, password: account.password });
    await held.waiting(2);
    await held.release();
    expect((await undoing).status).toBe(204);
    expectProblem(await login, 401, 'INVALID_CREDENTIALS');
    expect(await stack.sql('select id from sessions where user_id = ? and revoked_at is null', [account.userId])).toEqual([]);
  });

  it('sends the account pages back to sign-in, not to a 500, when the session ends while the request waits', async () => {
    for (const [path, fields] of [
      ['/account/email', (a: { password: string }) => ({ newEmail: uniqueEmail('race-page-new'), currentPassword: a.password })],
      ['/account/password', (a: { password: string }) => ({ currentPassword: a.password, newPassword: 'Another-Long-Passphrase-42', passwordConfirm: 'Another-Long-Passphrase-42' })],
    ] as const) {
      const account = await createAccount(stack, { label: 'race-page' });
      const browser = new ApiClient(stack.api.baseUrl);
      expect((await browser.form('/login', { email: account.email, password: account.password })).status).toBe(303);
      const held = await holdAccount(account.userId);
      const submitted = browser.form(path, fields(account));
      await held.waiting(1);
      await stack.sql('update sessions set revoked_at = now() where user_id = ?', [account.userId]);
      await held.release();
      const answer = await submitted;
      expect({ path, status: answer.status, location: answer.headers.get('location') }).toEqual({ path, status: 303, location: '/login' });
    }
  });

  it('lets exactly one of several parallel confirmations of one change win', async () => {
    for (let round = 0; round < 4; round++) {
      const account = await createAccount(stack, { label: 'race-confirm' });
      const session = await signIn(stack, account.email, account.password);
      const newEmail = uniqueEmail('race-confirm-new');
      const token = await requestChangeToken(stack, account, session, newEmail);

      const answers = await Promise.all(Array.from({ length: 5 }, () => stack.api.post('/auth/email/change/confirm', { token })));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 400, 400, 400, 400]);
      for (const lost of answers.filter((a) => a.status !== 200)) expectProblem(lost, 400, 'INVALID_TOKEN');
      // Changed once: one undo link, one mail to the old address.
      expect(await stateOf(account.userId)).toEqual({ email: newEmail, changedEvents: 1, undoLinks: 1 });
    }
  });

  it('ends a confirmation racing the undo of an earlier change with the old address back and nothing left to use', async () => {
    const outcomes: Record<string, number> = {};
    for (let round = 0; round < 6; round++) {
      const account = await createAccount(stack, { label: 'race-undo' });
      const session = await signIn(stack, account.email, account.password);
      const second = uniqueEmail('race-undo-b');
      const undo = await changeEmail(stack, account, session, second);
      const token = await requestChangeToken(stack, { ...account, email: second }, session, uniqueEmail('race-undo-c'));

      // Staggered differently each round, so both orders of arrival happen; the account row orders them.
      const [confirmed, undone] = await Promise.all([
        stack.api.post('/auth/email/change/confirm', { token }),
        sleep((round % 3) * 5).then(() => stack.api.post('/auth/email/change/undo', { token: undo })),
      ]);
      expect(undone.status).toBe(204);
      if (confirmed.status !== 200) expectProblem(confirmed, 400, 'INVALID_TOKEN');
      const key = confirmed.status === 200 ? 'confirm-first' : 'undo-first';
      outcomes[key] = (outcomes[key] ?? 0) + 1;

      // Either order: the old address is back, no session lives, and the only usable link is the mailed reset.
      const [user] = await stack.sql<{ email: string }>('select email from users where id = ?', [account.userId]);
      expect(user.email).toBe(account.email);
      expectProblem(await stack.api.get('/users/me', session.accessToken), 401, 'UNAUTHENTICATED');
      const live = await stack.sql<{ purpose: string }>(
        'select purpose from one_time_tokens where user_id = ? and used_at is null and expires_at > now()',
        [account.userId],
      );
      expect(live.map((row) => row.purpose)).toEqual(['password_reset']);
    }
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('orders a confirmation and an undo queued behind the same account row without a half state', async () => {
    const account = await createAccount(stack, { label: 'race-held' });
    const session = await signIn(stack, account.email, account.password);
    const second = uniqueEmail('race-held-b');
    const undo = await changeEmail(stack, account, session, second);
    const token = await requestChangeToken(stack, { ...account, email: second }, session, uniqueEmail('race-held-c'));

    const hold = await holdAccount(account.userId);
    let confirmed!: Promise<ApiResponse>;
    let undone!: Promise<ApiResponse>;
    try {
      confirmed = stack.api.post('/auth/email/change/confirm', { token });
      await hold.waiting(1);
      undone = stack.api.post('/auth/email/change/undo', { token: undo });
      await hold.waiting(2);
    } finally {
      await hold.release();
    }
    // The confirmation was first in line: it switched the address and issued its undo link; the
    // undo then restored the first address and spent that new link.
    expect((await confirmed).status).toBe(200);
    expect((await undone).status).toBe(204);
    expect(await stateOf(account.userId)).toEqual({ email: account.email, changedEvents: 2, undoLinks: 2 });
    const outstanding = await stack.sql(`select id from one_time_tokens where user_id = ? and purpose = 'email_change_undo' and used_at is null`, [account.userId]);
    expect(outstanding).toEqual([]);
  });

  it('answers 409, never 500, when a registration of the new address commits while the confirmation waits', async () => {
    const account = await createAccount(stack, { label: 'race-reg' });
    const session = await signIn(stack, account.email, account.password);
    const newEmail = uniqueEmail('race-reg-new');
    const token = await requestChangeToken(stack, account, session, newEmail);

    const hold = await holdAccount(account.userId);
    let confirmed!: Promise<ApiResponse>;
    try {
      confirmed = stack.api.post('/auth/email/change/confirm', { token });
      await hold.waiting(1);
      expect((await stack.api.post('/auth/register', { email: newEmail, password: strongPassword() })).status).toBe(201);
    } finally {
      await hold.release();
    }
    // The unique index decides: the registration holds the address, the change is refused and its link kept.
    expectProblem(await confirmed, 409, 'EMAIL_TAKEN');
    expect((await stateOf(account.userId)).email).toBe(account.email);
    const live = await stack.sql(`select id from one_time_tokens where user_id = ? and purpose = 'email_change' and used_at is null`, [account.userId]);
    expect(live).toHaveLength(1);
  });

  it('leaves the address with exactly one account when confirmations and registrations race freely', async () => {
    const outcomes: Record<string, number> = {};
    await Promise.all(
      Array.from({ length: 6 }, async (_, round) => {
        const account = await createAccount(stack, { label: 'race-free' });
        const session = await signIn(stack, account.email, account.password);
        const newEmail = uniqueEmail('race-free-new');
        const token = await requestChangeToken(stack, account, session, newEmail);
        const [confirmed, registered] = await Promise.all([
          stack.api.post('/auth/email/change/confirm', { token }),
          sleep((round % 3) * 3).then(() => stack.api.post('/auth/register', { email: newEmail, password: strongPassword() })),
        ]);
        const pair = `${confirmed.status}/${registered.status}`;
        expect(['200/409', '409/201']).toContain(pair);
        outcomes[pair] = (outcomes[pair] ?? 0) + 1;
        const holders = await stack.sql('select id from users where email_canonical = ?', [newEmail]);
        expect(holders).toHaveLength(1);
      }),
    );
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(6);
  });
});

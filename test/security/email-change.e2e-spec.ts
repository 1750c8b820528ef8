import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { MAIL_QUEUE } from '@accounts/mail/contract';
import { RateLimits } from '@accounts/auth';
import { redisOptions } from '@accounts/redis';
import type { ApiResponse } from '../support/api-client';
import { changeEmail, changeLinkIn, requestChangeToken, SUBJECTS } from '../support/email-change';
import { enableMfaOnClaim } from '../support/mfa';
import { expectDocumentedResponses } from '../support/openapi-contract';
import { waitUntil } from '../support/polling';
import { createAccount, expectProblem, nextMail, observable, pairedMedians, requestConfirmationToken, requestResetToken, signIn } from '../support/security';
import { startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/** Outstanding email change links of a user (what the caller's earlier link's fate depends on). */
async function outstandingChanges(stack: Stack, userId: string): Promise<number> {
  const [row] = await stack.sql<{ n: number }>(
    `select count(*)::int as n from one_time_tokens where user_id = ? and purpose = 'email_change' and used_at is null`,
    [userId],
  );
  return row.n;
}

/**
 * Enumeration through email change (SPEC §10): whoever holds a session (a stolen one, too) must not
 * learn whether an address has an account, from the answer, its timing, or what happens to their
 * own earlier link.
 */
describe('security: email change does not tell free from taken addresses', () => {
  let stack: Stack;
  beforeAll(async () => {
    // No worker: the answers are the subject here, and a busy worker only adds timing noise.
    stack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'true' }, withoutWorker: true });
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  it('answers free, taken, taken-in-another-case and unconfirmed-claim addresses with the same status, body and headers', async () => {
    const caller = await createAccount(stack, { label: 'enum-chg' });
    const confirmed = await createAccount(stack, { label: 'enum-chg-taken' });
    const unconfirmed = await createAccount(stack, { label: 'enum-chg-claim', confirmed: false });
    const session = await signIn(stack, caller.email, caller.password);
    const ask = (newEmail: string) => stack.api.post('/users/me/email', { newEmail, currentPassword: caller.password }, session.accessToken);
    const answers = {
      free: await ask(uniqueEmail('enum-chg-free')),
      taken: await ask(confirmed.email),
      takenOtherCase: await ask(` ${confirmed.email.toUpperCase()} `),
      unconfirmedClaim: await ask(unconfirmed.email),
    };
    expect(answers.free.status).toBe(202);
    expect(answers.free.body).toEqual({ status: 'accepted' });
    for (const [label, response] of Object.entries(answers)) {
      expect({ [label]: observable(response) }).toEqual({ [label]: observable(answers.free) });
    }
  });

  it('spends the earlier link alike, and records the same activity, whether the new address is free or taken', async () => {
    const caller = await createAccount(stack, { label: 'enum-chg-side' });
    const taken = await createAccount(stack, { label: 'enum-chg-side-taken' });
    const session = await signIn(stack, caller.email, caller.password);
    const ask = (newEmail: string) => stack.api.post('/users/me/email', { newEmail, currentPassword: caller.password }, session.accessToken);
    expect((await ask(uniqueEmail('enum-chg-side-1'))).status).toBe(202);
    expect(await outstandingChanges(stack, caller.userId)).toBe(1);
    // A taken address supersedes the earlier link too: its survival would tell.
    expect((await ask(taken.email)).status).toBe(202);
    expect(await outstandingChanges(stack, caller.userId)).toBe(0);
    const activity = await stack.sql<{ type: string }>(`select type from account_activity where user_id = ? and type like 'email.%' order by id`, [caller.userId]);
    expect(activity.map((row) => row.type)).toEqual(['email.change_requested', 'email.change_requested']);
  });

  /**
   * Timing, as the enumeration spec measures forgot and register: interleaved pairs in random
   * order after a warm-up, medians, tolerance max(10 ms, half the larger median). Both sides verify
   * the password with argon2; a free address writes a token as well, a taken one does not.
   */
  it('takes as long for a taken address as for a free one (medians of 30 interleaved pairs)', async () => {
    const caller = await createAccount(stack, { label: 'enum-chg-time' });
    const taken = await createAccount(stack, { label: 'enum-chg-time-taken' });
    const session = await signIn(stack, caller.email, caller.password);
    const ask = (newEmail: string) => stack.api.post('/users/me/email', { newEmail, currentPassword: caller.password }, session.accessToken);
    const timed = await pairedMedians(
      5,
      30,
      () => ask(taken.email),
      () => ask(uniqueEmail('enum-chg-time-free')),
    );
    const statuses = new Set([...timed.statuses.known, ...timed.statuses.unknown]);
    const result = { taken: timed.known, free: timed.unknown };
    const tolerance = Math.max(10, 0.5 * Math.max(result.taken, result.free));
    expect([...statuses]).toEqual([202]);
    expect({ ...result, withinTolerance: Math.abs(result.taken - result.free) < tolerance, tolerance }).toMatchObject({ withinTolerance: true });
  });
});

describe('security: email change tokens and the undo', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'true' } });
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  it('binds each token to its purpose: confirmation, reset, change and undo tokens work only where they belong', async () => {
    const account = await createAccount(stack, { label: 'tok-purpose' });
    const session = await signIn(stack, account.email, account.password);
    const reset = await requestResetToken(stack, account.email);
    const change = await requestChangeToken(stack, account, session, uniqueEmail('tok-purpose-new'));

    expectProblem(await stack.api.post('/auth/email/change/confirm', { token: reset }), 400, 'INVALID_TOKEN');
    expectProblem(await stack.api.post('/auth/email/change/undo', { token: reset }), 400, 'INVALID_TOKEN');
    expectProblem(await stack.api.post('/auth/email/change/undo', { token: change }), 400, 'INVALID_TOKEN');
    expectProblem(await stack.api.post('/auth/email/confirm', { token: change }), 400, 'INVALID_TOKEN');
    expectProblem(await stack.api.post('/auth/password/reset', { token: change, password: strongPassword() }), 400, 'INVALID_TOKEN');
    // None of that spent them.
    expect((await stack.api.post('/auth/email/change/confirm', { token: change })).status).toBe(200);

    const unconfirmed = await createAccount(stack, { label: 'tok-purpose-unconf', confirmed: false });
    const confirmation = await requestConfirmationToken(stack, unconfirmed.email);
    expectProblem(await stack.api.post('/auth/email/change/confirm', { token: confirmation }), 400, 'INVALID_TOKEN');
    expectProblem(await stack.api.post('/auth/email/change/undo', { token: confirmation }), 400, 'INVALID_TOKEN');
  });

  it('refuses expired, reused and superseded links with one answer, and stores only hashes', async () => {
    const account = await createAccount(stack, { label: 'tok-life' });
    const session = await signIn(stack, account.email, account.password);
    const expired = await requestChangeToken(stack, account, session, uniqueEmail('tok-life-1'));
    await stack.sql(`update one_time_tokens set expires_at = now() - interval '1 second' where user_id = ? and purpose = 'email_change'`, [account.userId]);
    expectProblem(await stack.api.post('/auth/email/change/confirm', { token: expired }), 400, 'INVALID_TOKEN');

    const older = await requestChangeToken(stack, account, session, uniqueEmail('tok-life-2'));
    const newer = await requestChangeToken(stack, account, session, uniqueEmail('tok-life-3'));
    const superseded = await stack.api.post('/auth/email/change/confirm', { token: older });
    expect((await stack.api.post('/auth/email/change/confirm', { token: newer })).status).toBe(200);
    const reused = await stack.api.post('/auth/email/change/confirm', { token: newer });
    expectProblem(superseded, 400, 'INVALID_TOKEN');
    expect(observable(reused)).toEqual(observable(superseded));

    const stored = await stack.sql<{ token_hash: string }>('select token_hash from one_time_tokens where user_id = ?', [account.userId]);
    expect(stored.map((row) => row.token_hash)).not.toEqual(expect.arrayContaining([expired, older, newer]));
    const outbox = JSON.stringify(await stack.sql(`select payload from outbox where payload->>'userId' = ?`, [account.userId]));
    for (const token of [expired, older, newer]) expect(outbox).not.toContain(token);
  });

  it('spends a pending change link when the password is reset or changed (it was asked for with the old password)', async () => {
    const account = await createAccount(stack, { label: 'tok-pw' });
    const session = await signIn(stack, account.email, account.password);
    const beforeReset = await requestChangeToken(stack, account, session, uniqueEmail('tok-pw-1'));
    const reset = await requestResetToken(stack, account.email);
    const password = strongPassword();
    expect((await stack.api.post('/auth/password/reset', { token: reset, password })).status).toBe(204);
    expectProblem(await stack.api.post('/auth/email/change/confirm', { token: beforeReset }), 400, 'INVALID_TOKEN');

    const fresh = await signIn(stack, account.email, password);
    const beforeChange = await requestChangeToken(stack, { ...account, password }, fresh, uniqueEmail('tok-pw-2'));
    const changed = await stack.api.post('/auth/password/change', { currentPassword: password, newPassword: strongPassword() }, fresh.accessToken);
    expect(changed.status).toBe(204);
    expectProblem(await stack.api.post('/auth/email/change/confirm', { token: beforeChange }), 400, 'INVALID_TOKEN');
  });

  it('refuses CR, LF and NUL in the new address, and sends nothing', async () => {
    const account = await createAccount(stack, { label: 'tok-crlf' });
    const session = await signIn(stack, account.email, account.password);
    const target = uniqueEmail('tok-crlf-target');
    for (const newEmail of [`${target}\r\nBcc: eve@example.com`, `${target}\nx`, `${target}\u0000`, `Eve <${target}>`, `${target}, eve@example.com`]) {
      const refused = await stack.api.post('/users/me/email', { newEmail, currentPassword: account.password }, session.accessToken);
      expectProblem(refused, 400, 'VALIDATION_FAILED');
      expect(refused.body.errors[0].field).toBe('newEmail');
    }
    expect(await outstandingChanges(stack, account.userId)).toBe(0);
    expect(await stack.sql(`select id from outbox where payload->>'userId' = ? and name like 'email.change%'`, [account.userId])).toEqual([]);
  });

  it('locks the attacker out: an undo ends their sessions and refresh tokens, spends their links, and mails the reset to the old address', async () => {
    // The attacker has the victim's password and a session, and moves the account to their own address.
    const victim = await createAccount(stack, { label: 'undo-victim', name: 'Vera' });
    const attacker = await signIn(stack, victim.email, victim.password);
    const attackerAddress = `attacker-${randomBytes(4).toString('hex')}@evil.test`;
    const undo = await changeEmail(stack, victim, attacker, attackerAddress);
    // They ask for a reset and another change at their address, to keep a way back in.
    const theirReset = await requestResetToken(stack, attackerAddress);
    const theirChange = await requestChangeToken(stack, { ...victim, email: attackerAddress }, attacker, uniqueEmail('undo-attacker-2'));

    const resetMail = nextMail(stack.sink, victim.email, SUBJECTS.reset);
    expect((await stack.api.post('/auth/email/change/undo', { token: undo })).status).toBe(204);

    expectProblem(await stack.api.get('/users/me', attacker.accessToken), 401, 'UNAUTHENTICATED');
    expectProblem(await stack.api.post('/auth/refresh', { refreshToken: attacker.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
    for (const email of [victim.email, attackerAddress]) {
      expectProblem(await stack.api.post('/auth/login', { email, password: victim.password }), 401, 'INVALID_CREDENTIALS');
    }
    expectProblem(await stack.api.post('/auth/password/reset', { token: theirReset, password: strongPassword() }), 400, 'INVALID_TOKEN');
    expectProblem(await stack.api.post('/auth/email/change/confirm', { token: theirChange }), 400, 'INVALID_TOKEN');

    const mail = await resetMail;
    expect(mail.to).toBe(victim.email);
    expect(mail.text).toMatch(/^Hi Vera,/);
    const password = strongPassword();
    expect((await stack.api.post('/auth/password/reset', { token: changeLinkIn(mail).token, password })).status).toBe(204);
    expect((await stack.api.post('/auth/login', { email: victim.email, password })).status).toBe(200);
    // The attacker's inbox got only the reset they asked for themselves.
    expect(stack.sink.messages.filter((m) => to(attackerAddress)(m) && SUBJECTS.reset.test(m.subject))).toHaveLength(1);
  });

  it('refuses an undo link that reached the attacker after a later undo spent it, and keeps the earlier one', async () => {
    const victim = await createAccount(stack, { label: 'undo-chain' });
    const attacker = await signIn(stack, victim.email, victim.password);
    const first = uniqueEmail('undo-chain-b');
    const victimUndo = await changeEmail(stack, victim, attacker, first);
    const attackerUndo = await changeEmail(stack, { ...victim, email: first }, attacker, uniqueEmail('undo-chain-c'));
    // The attacker undoes their own later change, hoping to spend the victim's link with it.
    expect((await stack.api.post('/auth/email/change/undo', { token: attackerUndo })).status).toBe(204);
    expect((await stack.api.post('/auth/email/change/undo', { token: victimUndo })).status).toBe(204);
    const [row] = await stack.sql<{ email: string }>('select email from users where id = ?', [victim.userId]);
    expect(row.email).toBe(victim.email);
    // And once the victim's undo ran, the attacker's is gone for good.
    expectProblem(await stack.api.post('/auth/email/change/undo', { token: attackerUndo }), 400, 'INVALID_TOKEN');
  });
});

describe('security: the undo gives the whole account back', () => {
  let stack: Stack;
  beforeAll(async () => {
    // The default: confirmation off, so a never-confirmed address can be changed away from.
    stack = await startStack({});
  });
  afterAll(() => stack.close());

  it("orders undo links by the database, not by the app hosts' clocks: an attacker's later undo link dies with the victim's undo", async () => {
    const account = await createAccount(stack, { label: 'undo-skew' });
    const attacker = await signIn(stack, account.email, account.password);
    const b = `attacker-b-${randomBytes(4).toString('hex')}@evil.test`;
    const c = `attacker-c-${randomBytes(4).toString('hex')}@evil.test`;
    const victimUndo = await changeEmail(stack, account, attacker, b);
    const attackerUndo = await changeEmail(stack, { ...account, email: b }, attacker, c);
    // The second confirmation ran on a replica whose clock is 50 ms behind the first's.
    await stack.sql(
      `update one_time_tokens set created_at = (select min(created_at) from one_time_tokens where user_id = ? and purpose = 'email_change_undo') - interval '50 milliseconds'
        where user_id = ? and purpose = 'email_change_undo' and email = ?`,
      [account.userId, account.userId, b],
    );
    expect((await stack.api.post('/auth/email/change/undo', { token: victimUndo })).status).toBe(204);
    expectProblem(await stack.api.post('/auth/email/change/undo', { token: attackerUndo }), 400, 'INVALID_TOKEN');
    const [user] = await stack.sql<{ email: string }>('select email from users where id = ?', [account.userId]);
    expect(user.email).toBe(account.email);
  });

  it("turns off the attacker's second factor, unlinks their identities, and mails a never-confirmed old address the reset without the account's name", async () => {
    // Registered without reading the inbox (confirmation off), under a name the inbox never vouched for.
    const account = await createAccount(stack, { label: 'undo-factors', name: 'Call 0900 evil', confirmed: false });
    // The attacker turns MFA on (which ends their other sessions) and links a provider identity of theirs.
    const { session: attacker } = await enableMfaOnClaim(stack, account);
    await stack.sql(`insert into identities (id, user_id, issuer, subject, email, created_at) values (gen_random_uuid(), ?, 'https://idp.evil.test', ?, null, now())`, [
      account.userId,
      randomBytes(8).toString('hex'),
    ]);
    const undo = await changeEmail(stack, account, attacker, `attacker-${randomBytes(4).toString('hex')}@evil.test`);

    const resetMail = nextMail(stack.sink, account.email, SUBJECTS.reset);
    expect((await stack.api.post('/auth/email/change/undo', { token: undo })).status).toBe(204);
    const mail = await resetMail;
    expect(mail.text).not.toContain('0900 evil');
    const password = strongPassword();
    expect((await stack.api.post('/auth/password/reset', { token: changeLinkIn(mail).token, password })).status).toBe(204);
    // Signed in with the password alone: no second factor of the attacker's stands in the way.
    expect((await stack.api.post('/auth/login', { email: account.email, password })).status).toBe(200);
    const left = await stack.sql(
      `select 'identity' as what from identities where user_id = ? union all select 'totp' from mfa_totp where user_id = ?
        union all select 'recovery' from mfa_recovery_codes where user_id = ? union all select 'mfa' from users where id = ? and mfa_enabled_at is not null`,
      [account.userId, account.userId, account.userId, account.userId],
    );
    expect(left).toEqual([]);
    const activity = await stack.sql<{ type: string }>(`select type from account_activity where user_id = ? and type in ('mfa.disabled', 'identity.unlinked')`, [account.userId]);
    expect(activity.map((row) => row.type).sort()).toEqual(['identity.unlinked', 'mfa.disabled']);
  });

  it("deletes a claimant of the old address like any account deletion: its activity loses ip and user agent, its mail is forgotten", async () => {
    const account = await createAccount(stack, { label: 'undo-claimant' });
    const attacker = await signIn(stack, account.email, account.password);
    const undo = await changeEmail(stack, account, attacker, `attacker-${randomBytes(4).toString('hex')}@evil.test`);
    // The attacker claims the old address to block the undo, and signs in to it.
    const claimPassword = strongPassword();
    expect((await stack.api.post('/auth/register', { email: account.email, password: claimPassword })).status).toBe(201);
    const [{ id: claimantId }] = await stack.sql<{ id: string }>('select id from users where email_canonical = ?', [account.email]);
    await signIn(stack, account.email, claimPassword);

    expect((await stack.api.post('/auth/email/change/undo', { token: undo })).status).toBe(204);
    expect(await stack.sql('select id from users where id = ?', [claimantId])).toEqual([]);
    const trail = await stack.sql<{ ip: string | null; user_agent: string | null }>('select ip, user_agent from account_activity where user_id = ?', [claimantId]);
    expect(trail.length).toBeGreaterThan(0);
    expect(trail.every((row) => row.ip === null && row.user_agent === null)).toBe(true);
    expect(await stack.sql(`select id from outbox where payload->>'userId' = ?`, [claimantId])).toEqual([]);
  });
});

describe('security: email change limits', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: {
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_EMAIL_CHANGE_PER_ACCOUNT: '3/1h',
        RATE_LIMIT_LOGIN_PER_ACCOUNT: '4/15m',
        RATE_LIMIT_MAIL_PER_ADDRESS: '2/1h',
        RATE_LIMIT_AUTH_PER_IP: '1000/15m',
      },
    });
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  it('lets through exactly the per-account number of requests, even in parallel, then answers 429 with Retry-After', async () => {
    const account = await createAccount(stack, { label: 'lim-chg' });
    const session = await signIn(stack, account.email, account.password);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => stack.api.post('/users/me/email', { newEmail: uniqueEmail('lim-chg-new'), currentPassword: account.password }, session.accessToken)),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([202, 202, 202, 429, 429, 429]);
    const refused = answers.find((a) => a.status === 429)!;
    expectProblem(refused, 429, 'TOO_MANY_REQUESTS');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('counts wrong passwords per account (not against the change limit), and then refuses even the right one', async () => {
    const account = await createAccount(stack, { label: 'lim-pw' });
    const session = await signIn(stack, account.email, account.password);
    const ask = (currentPassword: string) =>
      stack.api.post('/users/me/email', { newEmail: uniqueEmail('lim-pw-new'), currentPassword }, session.accessToken);
    const wrong: ApiResponse[] = [];
    for (let i = 0; i < 4; i++) wrong.push(await ask(strongPassword()));
    // Four wrong answers past a change limit of three: none of them took a change request.
    expect(wrong.map((a) => a.body.code)).toEqual(Array(4).fill('INVALID_CREDENTIALS'));
    expectProblem(await ask(account.password), 429, 'TOO_MANY_REQUESTS');
    const [{ n }] = await stack.sql<{ n: number }>(`select count(*)::int as n from account_activity where user_id = ? and type like 'email.%'`, [account.userId]);
    expect(n).toBe(0);
  });

  it("does not let a session without the password use up the owner's change budget (requests refused by the password count give their point back)", async () => {
    const account = await createAccount(stack, { label: 'lim-budget' });
    const thief = await signIn(stack, account.email, account.password);
    const ask = (currentPassword: string) => stack.api.post('/users/me/email', { newEmail: uniqueEmail('lim-budget-new'), currentPassword }, thief.accessToken);
    for (let i = 0; i < 4; i++) expectProblem(await ask('wrong password guess'), 400, 'INVALID_CREDENTIALS');
    // More guesses than the change budget (3), each refused by the password count.
    for (let i = 0; i < 4; i++) expectProblem(await ask('wrong password guess'), 429, 'TOO_MANY_REQUESTS');
    // The password count's window passing (cleared here), the owner still has the whole change budget.
    await stack.apiApp.get(RateLimits).clear('currentPasswordPerAccount', account.userId);
    expect((await ask(account.password)).status).toBe(202);
  });

  it('counts the notice to a never-confirmed old address under its mail cap: register, move away, register again does not flood it', async () => {
    const victim = uniqueEmail('lim-cycle');
    const moves: number[] = [];
    for (let i = 0; i < 4; i++) {
      const password = strongPassword();
      expect((await stack.api.post('/auth/register', { email: victim, password })).status).toBe(201);
      const [{ id: userId }] = await stack.sql<{ id: string }>('select id from users where email_canonical = ?', [victim]);
      const session = await signIn(stack, victim, password);
      const token = await requestChangeToken(stack, { email: victim, password, userId }, session, `cycle-${i}-${randomBytes(4).toString('hex')}@evil.test`);
      moves.push((await stack.api.post('/auth/email/change/confirm', { token })).status);
    }
    expect(moves).toEqual([200, 200, 200, 200]);
    await waitUntil(async () => stack.sink.messages.filter(to(victim)).length >= 2, 15_000, 'the mails within the cap');
    // Give a third mail time to show up if the cap failed.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(stack.sink.messages.filter(to(victim))).toHaveLength(2);
  });

  it('caps the mail one address can be sent, so the endpoint cannot flood a third party', async () => {
    const target = uniqueEmail('lim-target');
    const owner = await createAccount(stack, { label: 'lim-owner' });
    for (const newEmail of [target, owner.email]) {
      const answers: number[] = [];
      for (let i = 0; i < 2; i++) {
        const account = await createAccount(stack, { label: 'lim-flood' });
        const session = await signIn(stack, account.email, account.password);
        for (let j = 0; j < 2; j++) {
          answers.push((await stack.api.post('/users/me/email', { newEmail, currentPassword: account.password }, session.accessToken)).status);
        }
      }
      expect(answers).toEqual([202, 202, 202, 202]);
    }
    await waitUntil(async () => stack.sink.messages.filter(to(target)).length >= 2 && stack.sink.messages.filter(to(owner.email)).length >= 2, 15_000, 'the capped mails');
    // Give a third mail time to show up if the cap failed.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(stack.sink.messages.filter(to(target))).toHaveLength(2);
    expect(stack.sink.messages.filter(to(owner.email))).toHaveLength(2);
  });
});

/**
 * Someone who can write to the queue redirects a queued change or undo mail to their own address:
 * the seal binds the recipient (SPEC §5), so the job fails for good and sends nothing.
 */
describe('security: email change mails are bound to their recipient', () => {
  let stack: Stack;
  let queue: Queue<Record<string, unknown>>;
  const attacker = `attacker@evil-${randomBytes(4).toString('hex')}.test`;

  beforeAll(async () => {
    stack = await startStack({ env: { MAIL_ATTEMPTS: '3', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal' }, withoutWorker: true });
    queue = new Queue(MAIL_QUEUE, { connection: redisOptions(process.env.REDIS_URL!, 'worker'), prefix: stack.prefix });
  });
  afterAll(async () => {
    await queue?.close();
    await stack?.close();
  });

  async function queued(name: string, userId: string): Promise<string> {
    const [{ id }] = await stack.sql<{ id: string }>(`select id from outbox where name = ? and payload->>'userId' = ? order by created_at desc limit 1`, [name, userId]);
    await waitUntil(async () => (await queue.getJob(id)) !== undefined, 10_000, `the ${name} job queued`);
    return id;
  }

  it('fails change-requested and changed jobs whose recipient was changed, and sends their links to no one', async () => {
    const ask = async (label: string) => {
      const account = await createAccount(stack, { label });
      const session = await signIn(stack, account.email, account.password);
      const newEmail = uniqueEmail(`${label}-new`);
      expect((await stack.api.post('/users/me/email', { newEmail, currentPassword: account.password }, session.accessToken)).status).toBe(202);
      return { account, newEmail, jobId: await queued('email.change-requested', account.userId) };
    };
    const redirect = async (jobId: string) => {
      const job = (await queue.getJob(jobId))!;
      await job.updateData({ ...job.data, email: attacker });
    };
    const failed = async (jobId: string) => {
      await waitUntil(async () => (await (await queue.getJob(jobId))?.getState()) === 'failed', 15_000, 'the redirected job failed');
      expect((await queue.getJob(jobId))!.attemptsMade).toBe(1);
    };

    const redirected = await ask('bind');
    const untouched = await ask('bind-other');
    await redirect(redirected.jobId);
    await stack.startWorker();
    await failed(redirected.jobId);

    // The untouched request is delivered; confirming it produces the undo mail, redirected in turn.
    const link = changeLinkIn(await stack.sink.waitFor(to(untouched.newEmail), 15_000));
    await stack.worker!.close();
    stack.worker = undefined;
    expect((await stack.api.post('/auth/email/change/confirm', { token: link.token })).status).toBe(200);
    const changed = await queued('email.changed', untouched.account.userId);
    await redirect(changed);
    await stack.startWorker();
    await failed(changed);
    expect(stack.sink.messages.filter(to(attacker))).toEqual([]);
  });
});

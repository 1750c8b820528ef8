import { MikroORM } from '@mikro-orm/core';
import type { ApiResponse } from '../support/api-client';
import { expectProblem } from '../support/security';
import { linkIn, startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';
import { sleep, waitUntil } from '../support/polling';
import { eventIdsFor, printReport, waitForDeliveries } from './support/mail-audit';

/**
 * Racing requests on one account. (Two resets with one token, and one address registered twice at
 * once, are covered in password-recovery and registration; here: confirm against resend, and
 * against a repeat registration.)
 */
describe('fault 7: confirmation and resend racing on one account', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'true' } });
  });
  afterAll(() => stack?.close());

  it('leaves every account confirmed once, with no error, whichever request wins', async () => {
    const ROUNDS = 8;
    const outcomes: string[] = [];
    const laterLinks: Record<string, number> = {};

    await Promise.all(
      Array.from({ length: ROUNDS }, async (_, round) => {
        const email = uniqueEmail('race');
        const password = strongPassword();
        expect((await stack.api.post('/auth/register', { email, password })).status).toBe(202);
        const first = linkIn(await stack.sink.waitFor(to(email), 15_000)).token;

        // Staggered a little differently each round, so both orders of arrival happen.
        const [resend, confirm] = await Promise.all([
          stack.api.post('/auth/email/resend', { email }),
          sleep((round % 4) * 4).then(() => stack.api.post('/auth/email/confirm', { token: first })),
        ]);
        expect(resend.status).toBe(202);
        expect({ status: confirm.status, code: confirm.body?.code }).toMatchObject(
          confirm.status === 200 ? { status: 200 } : { status: 400, code: 'INVALID_TOKEN' },
        );
        outcomes.push(confirm.status === 200 ? 'confirm-won' : 'resend-won');

        // Every mail the account was sent arrives, whatever the interleaving.
        const events = await eventIdsFor(stack.sql, [email]);
        await waitForDeliveries(stack.sink, events, 15_000);
        const links = stack.sink.messages.filter(to(email)).map((mail) => linkIn(mail).token).filter((t) => t !== first);

        // When the resend superseded the first link, its own link confirms with a password chosen
        // there (a resent link carries none); when the confirm came first, a later link (if the
        // resend still sent one) is either refused or a no-op that keeps the password.
        let confirmedAt: string | undefined;
        let active = password;
        if (confirm.status === 200) confirmedAt = await confirmedAtOf(email);
        for (const token of links) {
          const chosen = strongPassword();
          const later = await stack.api.post('/auth/email/confirm', { token, password: chosen });
          if (later.status === 200 && confirm.status !== 200) active = chosen;
          const key = `later-link-${later.status}`;
          laterLinks[key] = (laterLinks[key] ?? 0) + 1;
          expect([200, 400]).toContain(later.status);
          if (later.status === 400) expect(later.body.code).toBe('INVALID_TOKEN');
          confirmedAt ??= await confirmedAtOf(email);
        }
        expect(confirmedAt).toEqual(expect.any(String));
        // Confirmed once: later links never move the confirmation time.
        expect(await confirmedAtOf(email)).toEqual(confirmedAt);
        expect((await stack.api.post('/auth/login', { email, password: active })).status).toBe(200);
        // The first link is spent either way.
        expect((await stack.api.post('/auth/email/confirm', { token: first })).status).toBe(400);
      }),
    );
    const counts = outcomes.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }), {});
    printReport('confirm vs resend race', { expected: ROUNDS, delivered: ROUNDS, missing: [], duplicates: 0, duplicatedIds: [] }, { ...counts, ...laterLinks });
  });

  it("keeps the confirmed link's password when a repeat registration reads the claim while the confirmation is under way", async () => {
    const email = uniqueEmail('race-register');
    const password = strongPassword();
    expect((await stack.api.post('/auth/register', { email, password })).status).toBe(202);
    const link = linkIn(await stack.sink.waitFor(to(email), 15_000)).token;
    const [{ id: userId }] = await stack.sql<{ id: string }>('select id from users where email_canonical = ?', [email]);

    // A transaction of the test's own holds the account row, so the confirmation stops between
    // spending its token and writing the account, and the registration can read the claim then.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holderPid!: number;
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    const holder = stack.apiApp
      .get(MikroORM)
      .em.fork()
      .transactional(async (em) => {
        const run = <T>(query: string, params: unknown[] = []) => em.getConnection().execute<T[]>(query, params, 'all', em.getTransactionContext());
        [{ pid: holderPid }] = await run<{ pid: number }>('select pg_backend_pid() as pid');
        await run('select id from users where id = ? for no key update', [userId]);
        held();
        await released;
      });
    await holding;
    const blockedBy = async (pid: number) =>
      (await stack.sql<{ pid: number }>('select pid from pg_stat_activity where ? = any(pg_blocking_pids(pid))', [pid])).map((row) => row.pid);

    const other = strongPassword();
    let confirm: Promise<ApiResponse> | undefined;
    let registration: Promise<ApiResponse> | undefined;
    try {
      confirm = stack.api.post('/auth/email/confirm', { token: link });
      await waitUntil(async () => (await blockedBy(holderPid)).length === 1, 15_000, 'the confirmation waiting for the account row');
      const [confirmPid] = await blockedBy(holderPid);
      registration = stack.api.post('/auth/register', { email, password: other });
      await waitUntil(async () => (await blockedBy(confirmPid)).length === 1, 15_000, 'the registration waiting behind the confirmation');
    } finally {
      release();
      await holder;
    }

    expect((await confirm!).status).toBe(200);
    expect((await registration!).status).toBe(202);
    expect((await stack.api.post('/auth/login', { email, password })).status).toBe(200);
    expectProblem(await stack.api.post('/auth/login', { email, password: other }), 401, 'INVALID_CREDENTIALS');
  });

  async function confirmedAtOf(email: string): Promise<string | undefined> {
    const [row] = await stack.sql<{ at: string | null }>('select email_confirmed_at::text as at from users where email_canonical = ?', [email]);
    return row?.at ?? undefined;
  }
});

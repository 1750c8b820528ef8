import { linkIn, startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';
import { sleep } from '../support/polling';
import { eventIdsFor, printReport, waitForDeliveries } from './support/mail-audit';

/**
 * Racing requests on one account. (Two resets with one token, and one address registered twice at
 * once, are covered in password-recovery and registration; here: confirm against resend.)
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

        // When the resend superseded the first link, its own link confirms; when the confirm came
        // first, a later link (if the resend still sent one) is either refused or a no-op.
        let confirmedAt: string | undefined;
        if (confirm.status === 200) confirmedAt = await confirmedAtOf(email);
        for (const token of links) {
          const later = await stack.api.post('/auth/email/confirm', { token });
          const key = `later-link-${later.status}`;
          laterLinks[key] = (laterLinks[key] ?? 0) + 1;
          expect([200, 400]).toContain(later.status);
          if (later.status === 400) expect(later.body.code).toBe('INVALID_TOKEN');
          confirmedAt ??= await confirmedAtOf(email);
        }
        expect(confirmedAt).toEqual(expect.any(String));
        // Confirmed once: later links never move the confirmation time.
        expect(await confirmedAtOf(email)).toEqual(confirmedAt);
        expect((await stack.api.post('/auth/login', { email, password })).status).toBe(200);
        // The first link is spent either way.
        expect((await stack.api.post('/auth/email/confirm', { token: first })).status).toBe(400);
      }),
    );
    const counts = outcomes.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }), {});
    printReport('confirm vs resend race', { expected: ROUNDS, delivered: ROUNDS, missing: [], duplicates: 0, duplicatedIds: [] }, { ...counts, ...laterLinks });
  });

  async function confirmedAtOf(email: string): Promise<string | undefined> {
    const [row] = await stack.sql<{ at: string | null }>('select email_confirmed_at::text as at from users where email_canonical = ?', [email]);
    return row?.at ?? undefined;
  }
});

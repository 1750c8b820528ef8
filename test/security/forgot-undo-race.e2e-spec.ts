import { TokensService } from '@accounts/tokens';
import { changeEmail } from '../support/email-change';
import { holdFirstCall } from '../support/hold';
import { waitUntil } from '../support/polling';
import { createAccount, signIn } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { uniqueEmail } from '../support/unique';

/**
 * SPEC §10: an undo "spends every outstanding token": the account is back with whoever reads the
 * old inbox. Found in review: a forgot-password for the address the account was moved to (B) that
 * reached the account row while an undo held it wrote its reset link anyway (its lock, FOR KEY
 * SHARE, did not wait for the undo's FOR NO KEY UPDATE) and mailed it to B after the undo had
 * spent every token; B's holder could reset the password and take the account again.
 */
describe('security: a forgot-password racing an email-change undo', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it('leaves the address the undo took the account from no reset link', async () => {
    const account = await createAccount(stack, { label: 'undo-forgot' });
    const holder = await signIn(stack, account.email, account.password);
    const moved = uniqueEmail('undo-forgot-moved');
    const undoToken = await changeEmail(stack, account, holder, moved);

    // The undo, held inside its transaction right after it issued its own reset link: every token
    // is spent, the old address is not written back yet.
    const hold = holdFirstCall(stack.apiApp.get(TokensService, { strict: false }), 'issue', 'after');
    const undo = stack.api.post('/auth/email/change/undo', { token: undoToken });
    await waitUntil(async () => hold.reached(), 10_000, 'the undo inside its transaction');

    // Meanwhile a reset link is asked for the address the account was moved to: it must wait for
    // the undo (and then find the account gone from that address), not write past it.
    let answered = false;
    const forgot = stack.api.post('/auth/password/forgot', { email: moved }).finally(() => (answered = true));
    const waitingForTheRow = async () =>
      (await stack.sql(`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like '%with holder as%'`)).length > 0;
    await waitUntil(async () => answered || (await waitingForTheRow()), 10_000, 'the forgot-password answered or waiting for the account row');
    hold.release();
    expect((await undo).status).toBe(204);
    expect((await forgot).status).toBe(202);
    jest.restoreAllMocks();

    const [row] = await stack.sql<{ email: string }>('select email from users where id = ?', [account.userId]);
    expect(row.email).toBe(account.email);
    const toMoved = await stack.sql(`select 1 from outbox where name = 'password.reset-requested' and payload->>'email' = ?`, [moved]);
    expect(toMoved).toHaveLength(0);
    const live = await stack.sql<{ n: number }>(
      `select count(*)::int as n from one_time_tokens where user_id = ? and purpose = 'password_reset' and used_at is null`,
      [account.userId],
    );
    // The undo's own link to the old address, nothing else.
    expect(live[0].n).toBe(1);
  });
});

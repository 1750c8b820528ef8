import { UnconfirmedAccountsCleaner } from '@accounts/auth';
import { createAccount, expectProblem, nextMail, signIn } from '../support/security';
import { linkIn, startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/**
 * Unconfirmed accounts are claims, deleted after UNCONFIRMED_ACCOUNT_TTL (SPEC §3, §5) while
 * confirmation is required, so nobody holds an address they never proved to read.
 */
describe('security: unconfirmed accounts expire', () => {
  let stack: Stack;
  let unconfirmedStack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'true', UNCONFIRMED_ACCOUNT_TTL: '7d' } });
    // The same database with confirmation off: unconfirmed accounts are ordinary accounts there.
    unconfirmedStack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'false' }, withoutWorker: true });
  });
  afterAll(async () => {
    await unconfirmedStack.close();
    await stack.close();
  });

  const purge = (on: Stack) => on.apiApp.get(UnconfirmedAccountsCleaner).purge();

  /** Makes an account look registered eight days ago, its emailed links long expired. */
  async function age(userId: string, { linksExpired = true } = {}): Promise<void> {
    await stack.sql(`update users set created_at = now() - interval '8 days' where id = ?`, [userId]);
    if (linksExpired) await stack.sql(`update one_time_tokens set expires_at = now() - interval '7 days' where user_id = ?`, [userId]);
  }

  async function exists(userId: string): Promise<boolean> {
    return (await stack.sql('select 1 from users where id = ?', [userId])).length === 1;
  }

  it('deletes an old unconfirmed account with its tokens, and the address can register again', async () => {
    const email = uniqueEmail('stale');
    const firstMail = nextMail(stack.sink, email, /confirm/i);
    const claim = { email, password: strongPassword() };
    expect((await stack.api.post('/auth/register', claim)).status).toBe(202);
    await firstMail;
    const [{ id: userId }] = await stack.sql<{ id: string }>('select id from users where email_canonical = ?', [email]);
    await age(userId);

    await purge(stack);

    expect(await exists(userId)).toBe(false);
    expect(await stack.sql('select 1 from one_time_tokens where user_id = ?', [userId])).toHaveLength(0);
    expectProblem(await stack.api.post('/auth/login', { email: claim.email, password: claim.password }), 401, 'INVALID_CREDENTIALS');

    const password = strongPassword();
    const mail = nextMail(stack.sink, claim.email, /confirm/i);
    expect((await stack.api.post('/auth/register', { email: claim.email, password })).status).toBe(202);
    expect((await stack.api.post('/auth/email/confirm', { token: linkIn(await mail).token })).status).toBe(200);
    expect((await stack.api.post('/auth/login', { email: claim.email, password })).status).toBe(200);
  });

  it('keeps confirmed accounts, young claims and claims whose link is still live', async () => {
    const confirmed = await createAccount(stack, { label: 'kept-confirmed', confirmed: true });
    await age(confirmed.userId);
    const young = await createAccount(stack, { label: 'kept-young', confirmed: false });
    const linkLive = await createAccount(stack, { label: 'kept-link', confirmed: false });
    await age(linkLive.userId, { linksExpired: false });

    await purge(stack);

    expect(await exists(confirmed.userId)).toBe(true);
    expect(await exists(young.userId)).toBe(true);
    expect(await exists(linkLive.userId)).toBe(true);
    expect((await signIn(stack, confirmed.email, confirmed.password)).accessToken).toEqual(expect.any(String));
  });

  it('deletes each account once when replicas purge at the same time', async () => {
    const claims = await Promise.all(Array.from({ length: 6 }, () => createAccount(stack, { label: 'stale-many', confirmed: false })));
    for (const claim of claims) await age(claim.userId);

    const deleted = await Promise.all([purge(stack), purge(stack), purge(stack)]);

    // Other tests' stale claims may go in the same passes; ours all went, none twice.
    expect(deleted.reduce((sum, n) => sum + n, 0)).toBeGreaterThanOrEqual(claims.length);
    for (const claim of claims) expect(await exists(claim.userId)).toBe(false);
  });

  it('answers registrations and resends racing the purge normally, whichever wins', async () => {
    const claims = await Promise.all(Array.from({ length: 8 }, () => createAccount(stack, { label: 'stale-race', confirmed: false })));
    for (const claim of claims) await age(claim.userId);

    const answers = await Promise.all([
      purge(stack).then(() => 'purged'),
      ...claims.map((claim, i) =>
        i % 2 === 0
          ? stack.api.post('/auth/register', { email: claim.email, password: strongPassword() }).then((r) => r.status)
          : stack.api.post('/auth/email/resend', { email: claim.email }).then((r) => r.status),
      ),
    ]);

    expect(answers).toEqual(['purged', ...claims.map(() => 202)]);
    for (const claim of claims) {
      expect((await stack.sql('select 1 from users where email_canonical = ?', [claim.email])).length).toBeLessThanOrEqual(1);
    }
  });

  it('never deletes an unconfirmed account while confirmation is off', async () => {
    const account = await createAccount(unconfirmedStack, { label: 'kept-no-confirmation', confirmed: false });
    await age(account.userId);

    expect(await purge(unconfirmedStack)).toBe(0);
    expect(await exists(account.userId)).toBe(true);
    expect((await signIn(unconfirmedStack, account.email, account.password)).accessToken).toEqual(expect.any(String));
  });

  it('keeps an account that was in use before confirmation was switched on', async () => {
    const account = await createAccount(unconfirmedStack, { label: 'kept-in-use', confirmed: false });
    await signIn(unconfirmedStack, account.email, account.password);
    await age(account.userId);

    await purge(stack);

    expect(await exists(account.userId)).toBe(true);
  });
});

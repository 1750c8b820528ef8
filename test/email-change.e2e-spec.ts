import { expectDocumentedResponses } from './support/openapi-contract';
import { changeEmail, changeLinkIn, requestChangeToken, SUBJECTS } from './support/email-change';
import { createAccount, expectProblem, nextMail, signIn, type Account } from './support/security';
import { startStack, type Stack } from './support/stack';
import { strongPassword, uniqueEmail } from './support/unique';

/** Email change with undo through the JSON API (SPEC §10), following the mailed links. */
describe('email change with undo', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  const AGENT = { 'user-agent': 'EmailChangeSpec/1.0' };
  const post = (path: string, body: unknown, token?: string) => stack.api.request('POST', `/api/v1${path}`, { body, token, headers: AGENT });

  /** The email change's own activity rows (sign-ins are recorded too). */
  async function activityOf(userId: string) {
    return stack.sql<{ type: string; ip: string | null; user_agent: string | null }>(
      "select type, ip, user_agent from account_activity where user_id = ? and type like 'email.%' order by id",
      [userId],
    );
  }

  async function emailOf(userId: string) {
    const [row] = await stack.sql<{ email: string; confirmed: boolean }>('select email, email_confirmed_at is not null as confirmed from users where id = ?', [userId]);
    return row;
  }

  it('moves the account to the new address, keeps password and sessions, and lets the old address undo it', async () => {
    const account = await createAccount(stack, { label: 'chg', name: 'Ann', confirmed: false });
    const session = await signIn(stack, account.email, account.password);
    const newEmail = uniqueEmail('chg-new');

    const requestedMail = nextMail(stack.sink, newEmail, SUBJECTS.requested);
    const asked = await post('/users/me/email', { newEmail: ` ${newEmail.toUpperCase()} `, currentPassword: account.password }, session.accessToken);
    expect(asked.status).toBe(202);
    expect(asked.body).toEqual({ status: 'accepted' });
    const requested = await requestedMail;
    // The new address has proven nothing: it does not learn the account's name.
    expect(requested.text).toMatch(/^Hello,/);
    expect(requested.text).not.toContain('Ann');
    const { url, token } = changeLinkIn(requested);
    expect(url.origin + url.pathname).toBe('http://accounts.test/confirm-email-change');
    // Nothing changes until the link is used.
    expect((await emailOf(account.userId)).email).toBe(account.email);

    const undoMail = nextMail(stack.sink, account.email, SUBJECTS.changed);
    const confirmed = await post('/auth/email/change/confirm', { token });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.user).toMatchObject({ id: account.userId, email: newEmail.toUpperCase(), emailConfirmed: true, name: 'Ann' });
    // The caller's session and password stay.
    expect((await stack.api.get('/users/me', session.accessToken)).body.user.email).toBe(newEmail.toUpperCase());
    expect((await stack.api.post('/auth/login', { email: newEmail, password: account.password })).status).toBe(200);
    expectProblem(await stack.api.post('/auth/login', { email: account.email, password: account.password }), 401, 'INVALID_CREDENTIALS');
    expectProblem(await post('/auth/email/change/confirm', { token }), 400, 'INVALID_TOKEN');

    const changed = await undoMail;
    // The old address was never confirmed: it is not greeted by the account's name.
    expect(changed.text).toMatch(/^Hello,/);
    const undo = changeLinkIn(changed);
    expect(undo.url.pathname).toBe('/undo-email-change');

    const resetMail = nextMail(stack.sink, account.email, SUBJECTS.reset);
    const undone = await post('/auth/email/change/undo', { token: undo.token });
    expect(undone.status).toBe(204);
    expect(await emailOf(account.userId)).toEqual({ email: account.email, confirmed: true });
    // Every session ends, and the password nobody can be sure is theirs no longer signs in.
    expectProblem(await stack.api.get('/users/me', session.accessToken), 401, 'UNAUTHENTICATED');
    expectProblem(await stack.api.post('/auth/refresh', { refreshToken: session.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
    expectProblem(await stack.api.post('/auth/login', { email: account.email, password: account.password }), 401, 'INVALID_CREDENTIALS');
    expectProblem(await post('/auth/email/change/undo', { token: undo.token }), 400, 'INVALID_TOKEN');

    // The reset link reaches the old address, and the account is its reader's again.
    const reset = changeLinkIn(await resetMail);
    const newPassword = strongPassword();
    expect((await stack.api.post('/auth/password/reset', { token: reset.token, password: newPassword })).status).toBe(204);
    expect((await stack.api.post('/auth/login', { email: account.email, password: newPassword })).status).toBe(200);

    expect(await activityOf(account.userId)).toEqual(
      expect.arrayContaining(
        ['email.change_requested', 'email.changed', 'email.change_undone'].map((type) => ({ type, ip: '127.0.0.1', user_agent: AGENT['user-agent'] })),
      ),
    );
  });

  it('answers a taken address with the same 202 and mails its owner a notice without a link', async () => {
    const account = await createAccount(stack, { label: 'chg-taken' });
    const owner = await createAccount(stack, { label: 'chg-owner', name: 'Olga' });
    const session = await signIn(stack, account.email, account.password);

    const notice = nextMail(stack.sink, owner.email, SUBJECTS.attempted);
    const asked = await post('/users/me/email', { newEmail: owner.email, currentPassword: account.password }, session.accessToken);
    expect(asked.status).toBe(202);
    expect(asked.body).toEqual({ status: 'accepted' });
    const mail = await notice;
    expect(mail.text).toMatch(/^Hi Olga,/);
    expect(mail.text).not.toMatch(/token=/);
    expect(mail.text).not.toContain(account.email);
    // Nothing changed, and the requester's activity says "requested" as it would for a free address.
    expect((await emailOf(account.userId)).email).toBe(account.email);
    expect((await emailOf(owner.userId)).email).toBe(owner.email);
    expect((await activityOf(account.userId)).map((row) => row.type)).toEqual(['email.change_requested']);
  });

  it('refuses the current address, a wrong password and malformed input with problem documents', async () => {
    const account = await createAccount(stack, { label: 'chg-bad' });
    const session = await signIn(stack, account.email, account.password);
    const same = await post('/users/me/email', { newEmail: account.email.toUpperCase(), currentPassword: account.password }, session.accessToken);
    expectProblem(same, 400, 'VALIDATION_FAILED');
    expect(same.body.errors).toEqual([{ field: 'newEmail', message: 'This is already the address of your account' }]);

    expectProblem(await post('/users/me/email', { newEmail: uniqueEmail('chg-bad-new'), currentPassword: strongPassword() }, session.accessToken), 400, 'INVALID_CREDENTIALS');
    for (const body of [
      { newEmail: 'not an address', currentPassword: account.password },
      { newEmail: `${'a'.repeat(250)}@example.com`, currentPassword: account.password },
      { newEmail: 42, currentPassword: account.password },
      { newEmail: uniqueEmail('chg-bad-x'), currentPassword: '' },
      { newEmail: uniqueEmail('chg-bad-y'), currentPassword: account.password, extra: true },
    ]) {
      expectProblem(await post('/users/me/email', body, session.accessToken), 400, 'VALIDATION_FAILED');
    }
    // Left out by an account that has a password: as wrong as a wrong one (SPEC §12 lets only passwordless accounts leave it out).
    expectProblem(await post('/users/me/email', { newEmail: uniqueEmail('chg-bad-z') }, session.accessToken), 400, 'INVALID_CREDENTIALS');
    expectProblem(await post('/users/me/email', { newEmail: uniqueEmail('chg-anon'), currentPassword: account.password }), 401, 'UNAUTHENTICATED');
    for (const path of ['/auth/email/change/confirm', '/auth/email/change/undo']) {
      expectProblem(await post(path, {}), 400, 'VALIDATION_FAILED');
      expectProblem(await post(path, { token: 'x'.repeat(600) }), 400, 'VALIDATION_FAILED');
      expectProblem(await post(path, { token: 'unknown-token-unknown-token' }), 400, 'INVALID_TOKEN');
    }
    expect((await activityOf(account.userId)).map((row) => row.type)).toEqual([]);
  });

  it('supersedes an earlier link with a newer request', async () => {
    const account = await createAccount(stack, { label: 'chg-super' });
    const session = await signIn(stack, account.email, account.password);
    const first = await requestChangeToken(stack, account, session, uniqueEmail('chg-super-1'));
    const secondEmail = uniqueEmail('chg-super-2');
    const second = await requestChangeToken(stack, account, session, secondEmail);
    expectProblem(await post('/auth/email/change/confirm', { token: first }), 400, 'INVALID_TOKEN');
    expect((await post('/auth/email/change/confirm', { token: second })).body.user.email).toBe(secondEmail);
  });

  it('answers 409 when the new address was registered meanwhile, and leaves the link unspent', async () => {
    const account = await createAccount(stack, { label: 'chg-race' });
    const session = await signIn(stack, account.email, account.password);
    const newEmail = uniqueEmail('chg-race-new');
    const token = await requestChangeToken(stack, account, session, newEmail);
    expect((await stack.api.post('/auth/register', { email: newEmail, password: strongPassword() })).status).toBe(201);
    expectProblem(await post('/auth/email/change/confirm', { token }), 409, 'EMAIL_TAKEN');
    expectProblem(await post('/auth/email/change/confirm', { token }), 409, 'EMAIL_TAKEN');
    expect((await emailOf(account.userId)).email).toBe(account.email);
  });

  describe('undo when the old address was registered meanwhile', () => {
    async function changedAway(label: string): Promise<{ account: Account; undo: string }> {
      const account = await createAccount(stack, { label });
      const session = await signIn(stack, account.email, account.password);
      return { account, undo: await changeEmail(stack, account, session, uniqueEmail(`${label}-new`)) };
    }

    it('takes the address back from an account that never confirmed it', async () => {
      const { account, undo } = await changedAway('chg-squat');
      const squatter = strongPassword();
      expect((await stack.api.post('/auth/register', { email: account.email, password: squatter })).status).toBe(201);
      expect((await post('/auth/email/change/undo', { token: undo })).status).toBe(204);
      expect(await emailOf(account.userId)).toEqual({ email: account.email, confirmed: true });
      expect(await stack.sql('select id from users where email_canonical = ? and id <> ?', [account.email, account.userId])).toEqual([]);
      expectProblem(await stack.api.post('/auth/login', { email: account.email, password: squatter }), 401, 'INVALID_CREDENTIALS');
    });

    it('answers 409 when a confirmed account holds it (its owner reads that inbox), and changes nothing', async () => {
      const { account, undo } = await changedAway('chg-held');
      expect((await stack.api.post('/auth/register', { email: account.email, password: strongPassword() })).status).toBe(201);
      await stack.sql('update users set email_confirmed_at = now() where email_canonical = ?', [account.email]);
      expectProblem(await post('/auth/email/change/undo', { token: undo }), 409, 'EMAIL_TAKEN');
      expect((await emailOf(account.userId)).email).not.toBe(account.email);
    });
  });

  it('keeps the undo link of an earlier change alive through later changes and their undo', async () => {
    const account = await createAccount(stack, { label: 'chg-chain' });
    const session = await signIn(stack, account.email, account.password);
    const second = uniqueEmail('chg-chain-b');
    const undoFirst = await changeEmail(stack, account, session, second);
    const undoSecond = await changeEmail(stack, { ...account, email: second }, session, uniqueEmail('chg-chain-c'));

    // Whoever holds the session undoes the later change (back to an address of theirs) first...
    expect((await post('/auth/email/change/undo', { token: undoSecond })).status).toBe(204);
    expect((await emailOf(account.userId)).email).toBe(second);
    // ...and the first address's undo still works, and wins.
    expect((await post('/auth/email/change/undo', { token: undoFirst })).status).toBe(204);
    expect((await emailOf(account.userId)).email).toBe(account.email);
  });
});

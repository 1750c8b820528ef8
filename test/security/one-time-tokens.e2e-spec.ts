import { expectDocumentedResponses } from '../support/openapi-contract';
import { hashSecretToken } from '@accounts/tokens';
import { createAccount, expectProblem, nextMail, requestConfirmationToken, requestResetToken, signIn } from '../support/security';
import { linkIn, startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/**
 * Emailed confirmation and reset tokens (ASVS 5.0 V6.4, OWASP Forgot Password cheat sheet): single
 * use, expiring, superseded by a newer one, bound to their purpose, and atomic under races.
 */
describe('security: one-time tokens', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'true' } });
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  async function registerUnconfirmed(label: string) {
    const email = uniqueEmail(label);
    const password = strongPassword();
    const mail = nextMail(stack.sink, email, /confirm/i);
    expect((await stack.api.post('/auth/register', { email, password })).status).toBe(202);
    return { email, password, confirmationToken: linkIn(await mail).token };
  }

  const confirm = (token: string) => stack.api.post('/auth/email/confirm', { token });
  const reset = (token: string, password = strongPassword()) => stack.api.post('/auth/password/reset', { token, password });

  it('spends a confirmation token and a reset token once; opening the links spends nothing', async () => {
    const { email, confirmationToken } = await registerUnconfirmed('ott-once');
    for (let i = 0; i < 2; i++) {
      expect((await stack.api.request('GET', `/confirm-email?token=${confirmationToken}`)).status).toBe(200);
    }
    expect((await confirm(confirmationToken)).status).toBe(200);
    expectProblem(await confirm(confirmationToken), 400, 'INVALID_TOKEN');
    expect((await stack.api.form('/confirm-email', { token: confirmationToken })).status).toBe(400);

    const resetToken = await requestResetToken(stack, email);
    expect((await stack.api.request('GET', `/reset-password?token=${resetToken}`)).status).toBe(200);
    const newPassword = strongPassword();
    expect((await reset(resetToken, newPassword)).status).toBe(204);
    expectProblem(await reset(resetToken), 400, 'INVALID_TOKEN');
    const form = await stack.api.form('/reset-password', { token: resetToken, password: 'x'.repeat(20), passwordConfirm: 'x'.repeat(20) });
    expect(form.status).toBe(400);
    // The second use changed nothing: the first new password still works.
    expect((await stack.api.post('/auth/login', { email, password: newPassword })).status).toBe(200);
  });

  it('refuses expired tokens with the same answer as an unknown token', async () => {
    const { email, password, confirmationToken } = await registerUnconfirmed('ott-expired');
    const resetToken = await requestResetToken(stack, email);
    await stack.sql(`update one_time_tokens set expires_at = now() - interval '1 second' where token_hash in (?, ?)`, [
      hashSecretToken(confirmationToken),
      hashSecretToken(resetToken),
    ]);
    const unknown = await confirm('A'.repeat(43));
    const expiredConfirm = await confirm(confirmationToken);
    expectProblem(expiredConfirm, 400, 'INVALID_TOKEN');
    expect(expiredConfirm.body).toEqual(unknown.body);
    const expiredReset = await reset(resetToken);
    expectProblem(expiredReset, 400, 'INVALID_TOKEN');
    expect(expiredReset.body).toEqual((await reset('B'.repeat(43))).body);
    // Nothing happened to the account.
    expectProblem(await stack.api.post('/auth/login', { email, password }), 403, 'EMAIL_NOT_CONFIRMED');
  });

  it('supersedes older tokens: a newer link, and a password change, kill the outstanding ones', async () => {
    const { email, confirmationToken: firstConfirm } = await registerUnconfirmed('ott-supersede');
    const secondConfirm = await requestConfirmationToken(stack, email);
    expectProblem(await confirm(firstConfirm), 400, 'INVALID_TOKEN');
    // A resent link carries no password: confirming chooses one.
    const password = strongPassword();
    expect((await stack.api.post('/auth/email/confirm', { token: secondConfirm, password })).status).toBe(200);

    const firstReset = await requestResetToken(stack, email);
    const secondReset = await requestResetToken(stack, email);
    expectProblem(await reset(firstReset), 400, 'INVALID_TOKEN');

    // Changing the password while signed in spends every outstanding reset link.
    const session = await signIn(stack, email, password);
    const changed = strongPassword();
    expect((await stack.api.post('/auth/password/change', { currentPassword: password, newPassword: changed }, session.accessToken)).status).toBe(204);
    expectProblem(await reset(secondReset), 400, 'INVALID_TOKEN');
    expect((await stack.api.post('/auth/login', { email, password: changed })).status).toBe(200);
  });

  it('binds a token to its purpose: a reset token cannot confirm and a confirmation token cannot reset (and neither is spent trying)', async () => {
    const { email, password, confirmationToken } = await registerUnconfirmed('ott-purpose');
    const resetToken = await requestResetToken(stack, email);

    expectProblem(await confirm(resetToken), 400, 'INVALID_TOKEN');
    expectProblem(await reset(confirmationToken), 400, 'INVALID_TOKEN');
    expect((await stack.api.form('/confirm-email', { token: resetToken })).status).toBe(400);
    const password2 = strongPassword();
    expect((await stack.api.form('/reset-password', { token: confirmationToken, password: password2, passwordConfirm: password2 })).status).toBe(400);
    // Still unconfirmed and the password unchanged.
    expectProblem(await stack.api.post('/auth/login', { email, password }), 403, 'EMAIL_NOT_CONFIRMED');

    expect((await confirm(confirmationToken)).status).toBe(200);
    const newPassword = strongPassword();
    expect((await reset(resetToken, newPassword)).status).toBe(204);
    expect((await stack.api.post('/auth/login', { email, password: newPassword })).status).toBe(200);
  });

  it('lets exactly one of ten parallel resets with one token succeed, and only its password works', async () => {
    const account = await createAccount(stack, { label: 'ott-reset-race', confirmed: false });
    const token = await requestResetToken(stack, account.email);
    const passwords = Array.from({ length: 10 }, () => strongPassword());
    const answers = await Promise.all(passwords.map((password) => reset(token, password)));
    expect(answers.map((a) => a.status).sort()).toEqual([204, 400, 400, 400, 400, 400, 400, 400, 400, 400]);
    for (const loser of answers.filter((a) => a.status === 400)) expect(loser.body.code).toBe('INVALID_TOKEN');

    const winner = passwords[answers.findIndex((a) => a.status === 204)];
    const logins = await Promise.all([account.password, ...passwords].map((password) => stack.api.post('/auth/login', { email: account.email, password })));
    const accepted = logins.map((login, i) => (login.status === 200 ? [account.password, ...passwords][i] : null)).filter(Boolean);
    expect(accepted).toEqual([winner]);
    // One password.changed event, not ten.
    const changedMails = await stack.sql<{ n: number }>(
      `select count(*)::int as n from outbox where name = 'password.changed' and payload->>'userId' = ?`,
      [account.userId],
    );
    expect(changedMails[0].n).toBe(1);
  });

  it('lets exactly one of ten parallel confirmations with one token succeed (API and page form mixed)', async () => {
    const { email, password, confirmationToken } = await registerUnconfirmed('ott-confirm-race');
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? confirm(confirmationToken) : stack.api.form('/confirm-email', { token: confirmationToken }))),
    );
    const successes = answers.filter((a) => a.status === 200);
    expect(successes).toHaveLength(1);
    expect(answers.filter((a) => a.status === 400)).toHaveLength(9);
    expect((await stack.api.post('/auth/login', { email, password })).status).toBe(200);
  });
});

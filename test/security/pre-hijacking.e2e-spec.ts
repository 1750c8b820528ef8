import { expectProblem, nextMail, requestConfirmationToken, requestResetToken, signIn } from '../support/security';
import { linkIn, startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/**
 * Account pre-hijacking (SPEC §5): an attacker registers the victim's address with a password of
 * their own before the victim does. Whatever link the victim then uses, the password that becomes
 * active is the one given in the registration (or reset) that produced that link.
 */
describe('security: account pre-hijacking', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'true' } });
  });
  afterAll(() => stack.close());

  /** Registers `email` and returns the token of the confirmation link this registration mailed. */
  async function register(email: string, password: string): Promise<string> {
    const mail = nextMail(stack.sink, email, /confirm/i);
    const registered = await stack.api.post('/auth/register', { email, password });
    expect(registered.status).toBe(202);
    return linkIn(await mail).token;
  }

  const confirm = (token: string) => stack.api.post('/auth/email/confirm', { token });
  const login = (email: string, password: string) => stack.api.post('/auth/login', { email, password });

  it("activates the victim's password, not the attacker's, when the victim registers after the attacker and confirms", async () => {
    const email = uniqueEmail('prehijack');
    const attackerPassword = strongPassword();
    const victimPassword = strongPassword();
    await register(email, attackerPassword);

    const victimLink = await register(email, victimPassword);
    expect((await confirm(victimLink)).status).toBe(200);

    expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
    expect((await login(email, victimPassword)).status).toBe(200);
  });

  it("never activates the attacker's password when the attacker registers after the victim", async () => {
    const email = uniqueEmail('prehijack-later');
    const victimPassword = strongPassword();
    const attackerPassword = strongPassword();
    const firstLink = await register(email, victimPassword);
    await register(email, attackerPassword);

    // The claim is not an account: the attacker cannot sign in with it.
    expectProblem(await login(email, attackerPassword), 403, 'EMAIL_NOT_CONFIRMED');
    // The later registration superseded the victim's link; the victim registers again.
    expectProblem(await confirm(firstLink), 400, 'INVALID_TOKEN');
    const secondLink = await register(email, victimPassword);
    expect((await confirm(secondLink)).status).toBe(200);

    expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
    expect((await login(email, victimPassword)).status).toBe(200);
  });

  it('resends a link carrying the latest registration\'s password', async () => {
    const email = uniqueEmail('prehijack-resend');
    const attackerPassword = strongPassword();
    const victimPassword = strongPassword();
    await register(email, attackerPassword);
    await register(email, victimPassword);

    // The victim lost the mail and asks for another link.
    const resent = await requestConfirmationToken(stack, email);
    expect((await confirm(resent)).status).toBe(200);

    expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
    expect((await login(email, victimPassword)).status).toBe(200);
  });

  it("confirms through a reset with the reset's password, and leaves the attacker's link dead", async () => {
    const email = uniqueEmail('prehijack-reset');
    const attackerPassword = strongPassword();
    const attackerLink = await register(email, attackerPassword);

    const resetToken = await requestResetToken(stack, email);
    const victimPassword = strongPassword();
    expect((await stack.api.post('/auth/password/reset', { token: resetToken, password: victimPassword })).status).toBe(204);

    // The link the attacker's registration mailed to the victim must not bring their password back.
    expectProblem(await confirm(attackerLink), 400, 'INVALID_TOKEN');
    expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
    expect((await login(email, victimPassword)).status).toBe(200);
  });

  describe('after confirmation was switched on', () => {
    let unconfirmedStack: Stack;
    beforeAll(async () => {
      // Same database, confirmation off: accounts registered here are usable at once.
      unconfirmedStack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'false' }, withoutWorker: true });
    });
    afterAll(() => unconfirmedStack.close());

    it("ends the attacker's sessions opened while confirmation was off when the victim confirms", async () => {
      const email = uniqueEmail('prehijack-session');
      const attackerPassword = strongPassword();
      expect((await unconfirmedStack.api.post('/auth/register', { email, password: attackerPassword })).status).toBe(201);
      const attacker = await signIn(unconfirmedStack, email, attackerPassword);

      const victimPassword = strongPassword();
      const victimLink = await register(email, victimPassword);
      expect((await confirm(victimLink)).status).toBe(200);

      expect((await unconfirmedStack.api.get('/users/me', attacker.accessToken)).status).toBe(401);
      expectProblem(await unconfirmedStack.api.post('/auth/refresh', { refreshToken: attacker.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
      expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
      expect((await login(email, victimPassword)).status).toBe(200);
    });
  });
});

import { randomBytes } from 'node:crypto';
import { hashSecretToken } from '@accounts/tokens';
import { ApiClient } from '../support/api-client';
import { requestChangeToken } from '../support/email-change';
import { enableMfaOnClaim } from '../support/mfa';
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

  const confirm = (token: string, password?: string) => stack.api.post('/auth/email/confirm', password === undefined ? { token } : { token, password });
  const login = (email: string, password: string) => stack.api.post('/auth/login', { email, password });

  it("activates the victim's password, not the attacker's, when the victim registers after the attacker and confirms", async () => {
    const email = uniqueEmail('prehijack');
    const attackerPassword = strongPassword();
    const victimPassword = strongPassword();
    await register(email, attackerPassword);

    // A repeat registration cannot tell the owner from a rival claimant: its link asks for the password.
    const victimLink = await register(email, victimPassword);
    expectProblem(await confirm(victimLink), 400, 'VALIDATION_FAILED');
    expect((await confirm(victimLink, victimPassword)).status).toBe(200);

    expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
    expect((await login(email, victimPassword)).status).toBe(200);
  });

  it("never activates the attacker's password when the attacker registers after the victim", async () => {
    const email = uniqueEmail('prehijack-later');
    const victimPassword = strongPassword();
    const attackerPassword = strongPassword();
    const firstLink = await register(email, victimPassword);
    await register(email, attackerPassword);

    // A repeat registration's password lives only on its link: the account is not told it.
    expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
    expectProblem(await login(email, victimPassword), 403, 'EMAIL_NOT_CONFIRMED');
    // The later registration superseded the victim's link; the victim registers again.
    expectProblem(await confirm(firstLink), 400, 'INVALID_TOKEN');
    const secondLink = await register(email, victimPassword);
    expect((await confirm(secondLink, victimPassword)).status).toBe(200);

    expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
    expect((await login(email, victimPassword)).status).toBe(200);
  });

  it("resends a link carrying no password: whoever reads the inbox chooses one, and the claims' passwords stay dead", async () => {
    const email = uniqueEmail('prehijack-resend');
    const attackerPassword = strongPassword();
    const victimPassword = strongPassword();
    await register(email, attackerPassword);
    await register(email, victimPassword);

    // Anyone can ask for a link, so it must not activate a password its requester chose.
    const resent = await requestConfirmationToken(stack, email);
    expectProblem(await confirm(resent), 400, 'VALIDATION_FAILED');
    const chosen = strongPassword();
    expect((await confirm(resent, chosen)).status).toBe(200);

    expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
    expectProblem(await login(email, victimPassword), 401, 'INVALID_CREDENTIALS');
    expect((await login(email, chosen)).status).toBe(200);
  });

  describe("the reviewer's attack: poll sign-in for the victim's registration, then register again", () => {
    /** Steps 1–3: the attacker claims the address, the victim registers, the attacker claims it again. */
    async function attack(label: string) {
      const email = uniqueEmail(label);
      const attackerPassword = strongPassword();
      const victimPassword = strongPassword();
      await register(email, attackerPassword);
      expectProblem(await login(email, attackerPassword), 403, 'EMAIL_NOT_CONFIRMED');
      const victimLink = await register(email, victimPassword);
      // No oracle: the attacker's answer does not flip when the victim registers.
      expectProblem(await login(email, attackerPassword), 403, 'EMAIL_NOT_CONFIRMED');
      await register(email, attackerPassword);
      expectProblem(await confirm(victimLink), 400, 'INVALID_TOKEN');
      return { email, attackerPassword, victimPassword };
    }

    it('leaves the victim with their own password when they register again and use the newest mail', async () => {
      const { email, attackerPassword, victimPassword } = await attack('prehijack-attack-register');
      expect((await confirm(await register(email, victimPassword), victimPassword)).status).toBe(200);

      expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
      expect((await login(email, victimPassword)).status).toBe(200);
    });

    it('leaves the victim with the password they choose when they ask for a new link (API)', async () => {
      const { email, attackerPassword } = await attack('prehijack-attack-resend');
      const resent = await requestConfirmationToken(stack, email);
      const chosen = strongPassword();
      expect((await confirm(resent, chosen)).status).toBe(200);

      expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
      expect((await login(email, chosen)).status).toBe(200);
    });

    it('leaves the victim with the password they choose on the page of a new link asked for on the invalid-link page', async () => {
      const { email, attackerPassword } = await attack('prehijack-attack-page');
      const mail = nextMail(stack.sink, email, /confirm/i);
      expect((await stack.api.form('/confirm-email/resend', { email })).status).toBe(200);
      const received = await mail;
      expect(received.text).toMatch(/choose a new password/i);
      const { token } = linkIn(received);

      const page = await stack.api.request('GET', `/confirm-email?token=${token}`);
      expect(page.status).toBe(200);
      expect(page.body).toMatch(/<label for="password">[^<]+<\/label>/);
      expect(page.body).toMatch(/<label for="passwordConfirm">[^<]+<\/label>/);
      // Without a password the page asks again and the link stays usable.
      const bare = await stack.api.form('/confirm-email', { token });
      expect(bare.status).toBe(400);
      expect(bare.body).toContain('name="password"');
      const chosen = strongPassword();
      const mismatch = await stack.api.form('/confirm-email', { token, password: chosen, passwordConfirm: strongPassword() });
      expect(mismatch.status).toBe(400);
      expect(mismatch.body).toContain('do not match');
      const done = await stack.api.form('/confirm-email', { token, password: chosen, passwordConfirm: chosen });
      expect(done.status).toBe(200);
      expect(done.body).toContain('Email confirmed');

      expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
      expect((await login(email, chosen)).status).toBe(200);
    });
  });

  describe('a link without a password', () => {
    it('keeps the token usable when the chosen password is weak or missing, on the API and the page', async () => {
      const email = uniqueEmail('prehijack-weak');
      await register(email, strongPassword());
      const token = await requestConfirmationToken(stack, email);

      const missing = await confirm(token);
      expectProblem(missing, 400, 'VALIDATION_FAILED');
      expect(missing.body.errors).toEqual([{ field: 'password', message: expect.any(String) }]);
      expectProblem(await confirm(token, 'password1234'), 400, 'PASSWORD_TOO_WEAK');
      // The email's local part counts against the chosen password, as at registration.
      expectProblem(await confirm(token, `${email.split('@')[0]}-Xq9!`), 400, 'PASSWORD_TOO_WEAK');
      const weakPage = await stack.api.form('/confirm-email', { token, password: 'password1234', passwordConfirm: 'password1234' });
      expect(weakPage.status).toBe(400);
      expect(weakPage.body).toContain('name="password"');

      const [row] = await stack.sql<{ used_at: Date | null }>('select used_at from one_time_tokens where token_hash = ?', [hashSecretToken(token)]);
      expect(row.used_at).toBeNull();
      const chosen = strongPassword();
      expect((await confirm(token, chosen)).status).toBe(200);
      expect((await login(email, chosen)).status).toBe(200);
    });
  });

  describe('a link carrying its registration\'s password', () => {
    it('refuses an extra password without spending the token, on the API and the page', async () => {
      const email = uniqueEmail('prehijack-extra');
      const password = strongPassword();
      const token = await register(email, password);

      const page = await stack.api.request('GET', `/confirm-email?token=${token}`);
      expect(page.status).toBe(200);
      expect(page.body).not.toContain('name="password"');
      const extra = await confirm(token, strongPassword());
      expectProblem(extra, 400, 'VALIDATION_FAILED');
      expect(extra.body.errors).toEqual([{ field: 'password', message: expect.any(String) }]);
      const other = strongPassword();
      expect((await stack.api.form('/confirm-email', { token, password: other, passwordConfirm: other })).status).toBe(400);

      expect((await confirm(token)).status).toBe(200);
      expect((await login(email, password)).status).toBe(200);
    });
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
      unconfirmedStack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'false' } });
    });
    afterAll(() => unconfirmedStack.close());

    it("ends the attacker's sessions opened while confirmation was off when the victim confirms", async () => {
      const email = uniqueEmail('prehijack-session');
      const attackerPassword = strongPassword();
      expect((await unconfirmedStack.api.post('/auth/register', { email, password: attackerPassword })).status).toBe(201);
      const attacker = await signIn(unconfirmedStack, email, attackerPassword);

      const victimPassword = strongPassword();
      const victimLink = await register(email, victimPassword);
      expect((await confirm(victimLink, victimPassword)).status).toBe(200);

      expect((await unconfirmedStack.api.get('/users/me', attacker.accessToken)).status).toBe(401);
      expectProblem(await unconfirmedStack.api.post('/auth/refresh', { refreshToken: attacker.refreshToken }), 401, 'INVALID_REFRESH_TOKEN');
      expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
      expect((await login(email, victimPassword)).status).toBe(200);
    });
    it("ends a claimant's sessions when the owner registers, so no signed-in resend or change can follow", async () => {
      const email = uniqueEmail('prehijack-claim-session');
      const attackerPassword = strongPassword();
      expect((await unconfirmedStack.api.post('/auth/register', { email, password: attackerPassword })).status).toBe(201);
      const browser = new ApiClient(unconfirmedStack.api.baseUrl);
      expect((await browser.form('/login', { email, password: attackerPassword })).status).toBe(303);
      const csrf = await browser.csrfToken('/account');
      const api = await signIn(unconfirmedStack, email, attackerPassword);

      // Confirmation is on now; the owner registers and gets a link that asks for the password.
      const ownerPassword = strongPassword();
      const ownerLink = await register(email, ownerPassword);

      const resend = await browser.form('/account/confirmation', { _csrf: csrf });
      expect({ status: resend.status, location: resend.headers.get('location') }).toEqual({ status: 303, location: '/login' });
      expect((await unconfirmedStack.api.get('/users/me', api.accessToken)).status).toBe(401);
      expect((await confirm(ownerLink, ownerPassword)).status).toBe(200);
      expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
      expect((await login(email, ownerPassword)).status).toBe(200);
    });

    it("sends links without a password from the account page too: confirming asks for it, and the current one keeps the session", async () => {
      const email = uniqueEmail('prehijack-account-resend');
      const password = strongPassword();
      expect((await unconfirmedStack.api.post('/auth/register', { email, password })).status).toBe(201);
      const browser = new ApiClient(unconfirmedStack.api.baseUrl);
      expect((await browser.form('/login', { email, password })).status).toBe(303);
      const mail = nextMail(unconfirmedStack.sink, email, /confirm/i);
      expect((await browser.form('/account/confirmation', {})).status).toBe(303);
      const link = linkIn(await mail).token;

      expectProblem(await confirm(link), 400, 'VALIDATION_FAILED');
      expect((await confirm(link, password)).status).toBe(200);
      expect((await browser.request('GET', '/account')).status).toBe(200);
    });

    it("does not bring an old password back through a confirmation link asked for on the account page before a password change", async () => {
      const email = uniqueEmail('prehijack-change');
      const oldPassword = strongPassword();
      expect((await unconfirmedStack.api.post('/auth/register', { email, password: oldPassword })).status).toBe(201);
      // Someone who knows the old password signs in on the pages and asks for a link carrying it.
      const browser = new ApiClient(unconfirmedStack.api.baseUrl);
      expect((await browser.form('/login', { email, password: oldPassword })).status).toBe(303);
      const mail = nextMail(unconfirmedStack.sink, email, /confirm/i);
      expect((await browser.form('/account/confirmation', {})).status).toBe(303);
      const staleLink = linkIn(await mail).token;

      const owner = await signIn(unconfirmedStack, email, oldPassword);
      const newPassword = strongPassword();
      const changed = await unconfirmedStack.api.post('/auth/password/change', { currentPassword: oldPassword, newPassword }, owner.accessToken);
      expect(changed.status).toBe(204);

      expectProblem(await confirm(staleLink), 400, 'INVALID_TOKEN');
      expectProblem(await unconfirmedStack.api.post('/auth/login', { email, password: oldPassword }), 401, 'INVALID_CREDENTIALS');
      expect((await unconfirmedStack.api.post('/auth/login', { email, password: newPassword })).status).toBe(200);
    });
  });
});

/** The per-address mail cap on: an attacker can hold back the owner's own mail (SPEC §7). */
describe('security: account pre-hijacking under the mail cap', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: { EMAIL_CONFIRMATION_REQUIRED: 'true', RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAIL_PER_ADDRESS: '3/1h', RATE_LIMIT_AUTH_PER_IP: '1000/15m' },
    });
  });
  afterAll(() => stack.close());

  const confirm = (token: string, password?: string) => stack.api.post('/auth/email/confirm', password === undefined ? { token } : { token, password });
  const login = (email: string, password: string) => stack.api.post('/auth/login', { email, password });

  it("lets no claim's link activate a claimant's password once the owner registers, even when the cap holds back the owner's mail", async () => {
    const email = uniqueEmail('prehijack-cap');
    const attackerPassword = strongPassword();
    // The attacker registers three times within the hour: the cap is used up, the owner gets no mail.
    const links: string[] = [];
    for (let i = 0; i < 3; i++) {
      const mail = nextMail(stack.sink, email, /confirm/i);
      expect((await stack.api.post('/auth/register', { email, password: attackerPassword })).status).toBe(202);
      links.push(linkIn(await mail).token);
    }
    const victimPassword = strongPassword();
    expect((await stack.api.post('/auth/register', { email, password: victimPassword })).status).toBe(202);

    // Older links are superseded; the newest asks whoever confirms for the password.
    for (const link of links.slice(0, 2)) expectProblem(await confirm(link), 400, 'INVALID_TOKEN');
    expectProblem(await confirm(links[2]), 400, 'VALIDATION_FAILED');
    expect((await confirm(links[2], victimPassword)).status).toBe(200);
    expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
    expect((await login(email, victimPassword)).status).toBe(200);
  });

  it("takes the password off a claim's link when the cap holds back the owner's registration mail", async () => {
    const email = uniqueEmail('prehijack-cap-first');
    // Mail for an unknown address is counted but never sent: two requests use up most of the cap.
    for (let i = 0; i < 2; i++) expect((await stack.api.post('/auth/password/forgot', { email })).status).toBe(202);
    const attackerPassword = strongPassword();
    const mail = nextMail(stack.sink, email, /confirm/i);
    expect((await stack.api.post('/auth/register', { email, password: attackerPassword })).status).toBe(202);
    const claimLink = linkIn(await mail).token;

    const victimPassword = strongPassword();
    expect((await stack.api.post('/auth/register', { email, password: victimPassword })).status).toBe(202);
    // The owner finds only the claim's link: it confirms, but with the password the owner chooses.
    expectProblem(await confirm(claimLink), 400, 'VALIDATION_FAILED');
    expect((await confirm(claimLink, victimPassword)).status).toBe(200);
    expectProblem(await login(email, attackerPassword), 401, 'INVALID_CREDENTIALS');
    expect((await login(email, victimPassword)).status).toBe(200);
  });

  it("keeps the owner's own link working when a capped registration of a rival arrives after it", async () => {
    const email = uniqueEmail('prehijack-cap-owner');
    const ownerPassword = strongPassword();
    const mail = nextMail(stack.sink, email, /confirm/i);
    expect((await stack.api.post('/auth/register', { email, password: ownerPassword })).status).toBe(202);
    const ownerLink = linkIn(await mail).token;
    // A rival uses up the cap, then registers: its mail is held back, and it must not cost the owner the link.
    for (let i = 0; i < 2; i++) expect((await stack.api.post('/auth/password/forgot', { email })).status).toBe(202);
    expect((await stack.api.post('/auth/register', { email, password: strongPassword() })).status).toBe(202);

    expectProblem(await confirm(ownerLink), 400, 'VALIDATION_FAILED');
    expect((await confirm(ownerLink, ownerPassword)).status).toBe(200);
    expect((await login(email, ownerPassword)).status).toBe(200);
  });
});

/**
 * With confirmation off (the default) a claimant signs in at once and can set things up on the
 * claim; when the owner of the inbox takes it over, none of it may survive (SPEC §5).
 */
describe('security: a claim handed over keeps nothing of its claimant', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({});
  });
  afterAll(() => stack.close());

  /** The claimant registers `email`, signs in, turns MFA on and links a provider identity of theirs. */
  async function claim(email: string) {
    const password = strongPassword();
    expect((await stack.api.post('/auth/register', { email, password })).status).toBe(201);
    const [{ id: userId }] = await stack.sql<{ id: string }>('select id from users where email_canonical = ?', [email]);
    const account = { email, password, userId };
    const { session } = await enableMfaOnClaim(stack, account);
    await stack.sql(`insert into identities (id, user_id, issuer, subject, email, created_at) values (gen_random_uuid(), ?, 'https://idp.evil.test', ?, null, now())`, [
      userId,
      randomBytes(8).toString('hex'),
    ]);
    return { account, session };
  }

  async function factorsLeft(userId: string) {
    return stack.sql(
      `select 'identity' as what from identities where user_id = ? union all select 'totp' from mfa_totp where user_id = ?
        union all select 'mfa' from users where id = ? and mfa_enabled_at is not null`,
      [userId, userId, userId],
    );
  }

  it("spends the claimant's pending change link when the owner confirms the address with their own password", async () => {
    const email = uniqueEmail('handover-change');
    const { account, session } = await claim(email);
    const attackerInbox = `attacker-${randomBytes(4).toString('hex')}@evil.test`;
    const pending = await requestChangeToken(stack, account, session, attackerInbox);

    expectProblem(await stack.api.post('/auth/register', { email, password: strongPassword() }), 409, 'EMAIL_TAKEN');
    const confirmToken = await requestConfirmationToken(stack, email);
    const ownerPassword = strongPassword();
    expect((await stack.api.post('/auth/email/confirm', { token: confirmToken, password: ownerPassword })).status).toBe(200);

    expectProblem(await stack.api.post('/auth/email/change/confirm', { token: pending }), 400, 'INVALID_TOKEN');
    const [user] = await stack.sql<{ email: string }>('select email from users where id = ?', [account.userId]);
    expect(user.email).toBe(email);
    // The claimant's second factor and identity went with the claim: the owner signs in with the password alone.
    expect((await stack.api.post('/auth/login', { email, password: ownerPassword })).status).toBe(200);
    expect(await factorsLeft(account.userId)).toEqual([]);
  });

  it("leaves no second factor or identity of the claimant when the owner takes the claim through a reset", async () => {
    const email = uniqueEmail('handover-reset');
    const { account } = await claim(email);
    const reset = await requestResetToken(stack, email);
    const ownerPassword = strongPassword();
    expect((await stack.api.post('/auth/password/reset', { token: reset, password: ownerPassword })).status).toBe(204);
    expect((await stack.api.post('/auth/login', { email, password: ownerPassword })).status).toBe(200);
    expect(await factorsLeft(account.userId)).toEqual([]);
  });

  it('keeps the second factor of an owner who confirms with the password they already have', async () => {
    const email = uniqueEmail('handover-own');
    const { account } = await claim(email);
    const confirmToken = await requestConfirmationToken(stack, email);
    expect((await stack.api.post('/auth/email/confirm', { token: confirmToken, password: account.password })).status).toBe(200);
    const login = await stack.api.post('/auth/login', { email, password: account.password });
    expectProblem(login, 401, 'MFA_REQUIRED');
  });
});

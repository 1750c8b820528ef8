import { User } from '@accounts/users';
import { EmailTakenError, InvalidCredentialsError } from './auth.errors';
import { AuthService } from './auth.service';
import { MfaRequiredError } from './mfa/mfa.errors';

/**
 * AuthService with its collaborators faked: the seams we own (hasher, policy, sessions, tokens,
 * outbox, limits, events) and the entity manager at its edge (a transaction hands a manager of its
 * own, so a test sees which manager each write went through).
 */
function build(options: { existing?: User | null; emailConfirmationRequired?: boolean; locked?: User | null } = {}) {
  const locked = options.locked === undefined ? (options.existing ?? null) : options.locked;
  const tx = {
    persist: jest.fn(),
    getRepository: () => ({ findByEmailHeld: jest.fn().mockResolvedValue(options.existing ?? null), findByIdLocked: jest.fn().mockResolvedValue(locked) }),
  };
  const em = {
    getRepository: () => ({ findByEmail: jest.fn().mockResolvedValue(options.existing ?? null) }),
    map: jest.fn(() => options.existing),
    transactional: jest.fn((work: (em: typeof tx) => unknown) => work(tx)),
  };
  const fakes = {
    hasher: { hash: jest.fn().mockResolvedValue('new-hash'), verify: jest.fn(), verifyDummy: jest.fn().mockResolvedValue(false), needsRehash: jest.fn().mockReturnValue(false) },
    policy: { assertAcceptable: jest.fn() },
    sessions: {
      // The account's row stands for the account: the manager's map() below turns it back.
      accountForSignIn: jest.fn().mockResolvedValue({ user: options.existing ? { row: true } : undefined, liveSessionIps: [] }),
      start: jest.fn(() => ({ session: { id: 'session-1' }, refreshToken: 'refresh' })),
      startProven: jest.fn().mockResolvedValue(options.locked === undefined ? { sessionId: 'session-1', refreshToken: 'refresh' } : null),
    },
    accessTokens: { sign: jest.fn().mockReturnValue('access'), lifetimeSeconds: 900 },
    tokens: { issue: jest.fn().mockResolvedValue('confirmation-token') },
    outbox: { record: jest.fn() },
    limits: { consume: jest.fn(), giveBack: jest.fn(), count: jest.fn().mockResolvedValue(true) },
    events: { record: jest.fn() },
    mfa: { issueChallenge: jest.fn().mockResolvedValue('mfa-token') },
    activity: { record: jest.fn(), recordApart: jest.fn(), insertFrom: jest.fn(() => activityRow) },
    users: { findByEmail: jest.fn() },
    handover: { forgetPreviousHolder: jest.fn() },
  };
  const config = { emailConfirmationRequired: options.emailConfirmationRequired ?? false, confirmationTokenTtlMs: 60_000 };
  // The constructor's parameter types are the real classes; the fakes cover what the flows call.
  const Service = AuthService as unknown as new (...dependencies: unknown[]) => AuthService;
  const { hasher, policy, sessions, accessTokens, tokens, outbox, limits, events, mfa, activity, users, handover } = fakes;
  const auth = new Service(em, hasher, policy, sessions, accessTokens, tokens, outbox, limits, events, mfa, activity, users, handover, config);
  return { auth, em, tx, ...fakes };
}

const meta = { ip: '203.0.113.7', userAgent: 'test' };
const activityRow = { sql: 'insert into account_activity …', params: [] };

describe('AuthService', () => {
  describe('login', () => {
    it('opens the session with its activity row in one statement, against what the password was checked with', async () => {
      const user = new User('ann@example.com', 'stored-hash');
      const { auth, em, hasher, limits, sessions, activity } = build({ existing: user });
      hasher.verify.mockResolvedValue(true);
      const signedIn = await auth.login('ann@example.com', 'right password', meta);
      const proven = { userId: user.id, passwordHash: 'stored-hash', emailCanonical: 'ann@example.com' };
      expect(sessions.startProven).toHaveBeenCalledWith(proven, meta, 'password', undefined, activityRow);
      expect(activity.insertFrom).toHaveBeenCalledWith('holder', 'signin.succeeded', meta);
      expect(limits.giveBack).toHaveBeenCalledWith('loginPerAccount', 'ann@example.com');
      expect(signedIn).toMatchObject({ accessToken: 'access', refreshToken: 'refresh', tokenType: 'Bearer', user: { email: 'ann@example.com' } });
    });

    it('refuses a wrong password without giving the limit point back, and logs a masked address', async () => {
      const user = new User('ann@example.com', 'stored-hash');
      const { auth, hasher, limits, events, sessions, activity } = build({ existing: user });
      hasher.verify.mockResolvedValue(false);
      await expect(auth.login('ann@example.com', 'wrong', meta)).rejects.toBeInstanceOf(InvalidCredentialsError);
      expect(limits.consume).toHaveBeenCalledWith('loginPerAccount', 'ann@example.com');
      expect(limits.giveBack).not.toHaveBeenCalled();
      expect(sessions.startProven).not.toHaveBeenCalled();
      expect(events.record).toHaveBeenCalledWith('auth.signin.failed', { email: 'a***@example.com', ip: meta.ip, knownAccount: true });
      expect(activity.recordApart).toHaveBeenCalledWith(user.id, 'signin.failed', meta);
    });

    it('asks an account with MFA for its second factor instead of opening a session, keeping a rehash', async () => {
      const user = new User('ann@example.com', 'stored-hash');
      user.mfaEnabledAt = new Date();
      const { auth, tx, hasher, sessions, mfa } = build({ existing: user });
      hasher.verify.mockResolvedValue(true);
      hasher.needsRehash.mockReturnValue(true);
      const outcome = auth.login('ann@example.com', 'right password', meta);
      await expect(outcome).rejects.toBeInstanceOf(MfaRequiredError);
      await expect(outcome).rejects.toMatchObject({ mfaToken: 'mfa-token' });
      expect(mfa.issueChallenge).toHaveBeenCalledWith(tx, user.id, 'password');
      expect(user.passwordHash).toBe('new-hash');
      expect(sessions.startProven).not.toHaveBeenCalled();
    });

    it('asks for the second factor whoever proved the first: signInAs as an identity provider calls it', async () => {
      const user = new User('ann@example.com', 'stored-hash');
      user.mfaEnabledAt = new Date();
      const { auth, sessions, events } = build({ existing: user });
      await expect(auth.signInAs(user, meta)).rejects.toMatchObject({ name: 'MfaRequiredError', mfaToken: 'mfa-token' });
      expect(sessions.startProven).not.toHaveBeenCalled();
      expect(events.record).toHaveBeenCalledWith('auth.signin.mfa_required', { userId: user.id, ip: meta.ip });
    });

    it('opens no session (nor challenge) when the password or address changed under it while argon2 verified (a reset, undo or handover won)', async () => {
      for (const mfaOn of [false, true]) {
        const user = new User('ann@example.com', 'stored-hash');
        if (mfaOn) user.mfaEnabledAt = new Date();
        const now = Object.assign(new User('ann@example.com', 'hash-set-meanwhile'), { id: user.id });
        const moved = Object.assign(new User('elsewhere@example.com', 'stored-hash'), { id: user.id });
        for (const locked of [now, moved, null]) {
          const { auth, hasher, sessions, mfa } = build({ existing: user, locked });
          hasher.verify.mockResolvedValue(true);
          await expect(auth.login('ann@example.com', 'right password', meta)).rejects.toBeInstanceOf(InvalidCredentialsError);
          // Without MFA the re-check is startProven's statement, which opens nothing then (null);
          // test/faults/account-races proves it against PostgreSQL.
          if (mfaOn) expect(sessions.startProven).not.toHaveBeenCalled();
          expect(mfa.issueChallenge).not.toHaveBeenCalled();
        }
      }
    });

    it('does the same argon2 work for an unknown address and answers the same', async () => {
      const { auth, hasher, activity } = build({ existing: null });
      await expect(auth.login('nobody@example.com', 'whatever', meta)).rejects.toBeInstanceOf(InvalidCredentialsError);
      expect(hasher.verifyDummy).toHaveBeenCalledWith('whatever');
      expect(activity.recordApart).not.toHaveBeenCalled();
    });

    it('answers an account without a password (made through a provider) like a wrong password, with the same argon2 work', async () => {
      const { auth, hasher, limits, sessions } = build({ existing: new User('ann@example.com', null) });
      await expect(auth.login('ann@example.com', 'anything at all', meta)).rejects.toBeInstanceOf(InvalidCredentialsError);
      expect(hasher.verifyDummy).toHaveBeenCalledWith('anything at all');
      expect(hasher.verify).not.toHaveBeenCalled();
      expect(limits.giveBack).not.toHaveBeenCalled();
      expect(sessions.startProven).not.toHaveBeenCalled();
    });
  });

  describe('register', () => {
    it("records the welcome event in the registration's transaction, on the manager that transaction hands", async () => {
      const { auth, tx, outbox } = build();
      const outcome = await auth.register({ email: 'new@example.com', password: 'a long enough password' });
      expect(outcome).toMatchObject({ user: { email: 'new@example.com' } });
      expect(tx.persist).toHaveBeenCalledWith(expect.any(User));
      expect(outbox.record).toHaveBeenCalledWith(tx, 'user.registered', expect.any(Function));
      const payload = outbox.record.mock.calls[0][2]({ seal: () => ({ sealed: 'x' }) });
      expect(payload).toMatchObject({ v: 1, email: 'new@example.com', name: null, confirmationToken: null });
    });

    it('refuses a taken address when confirmation is off, recording nothing', async () => {
      const { auth, outbox } = build({ existing: new User('ann@example.com', 'stored-hash') });
      await expect(auth.register({ email: 'ann@example.com', password: 'a long enough password' })).rejects.toBeInstanceOf(EmailTakenError);
      expect(outbox.record).not.toHaveBeenCalled();
    });

    it('holds a link-less welcome back above the per-address mail cap (register, move away, register again)', async () => {
      const { auth, outbox, limits } = build();
      limits.count.mockResolvedValue(false);
      await expect(auth.register({ email: 'new@example.com', password: 'a long enough password' })).resolves.toMatchObject({ user: { email: 'new@example.com' } });
      expect(outbox.record).not.toHaveBeenCalled();
    });
  });
});

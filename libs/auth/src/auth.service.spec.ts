import { User } from '@accounts/users';
import { EmailTakenError, InvalidCredentialsError } from './auth.errors';
import { AuthService } from './auth.service';

/**
 * AuthService with its collaborators faked: the seams we own (hasher, policy, sessions, tokens,
 * outbox, limits, events) and the entity manager at its edge (a transaction hands a manager of its
 * own, so a test sees which manager each write went through).
 */
function build(options: { existing?: User | null; emailConfirmationRequired?: boolean } = {}) {
  const tx = { persist: jest.fn(), getRepository: () => ({ findByEmailHeld: jest.fn().mockResolvedValue(options.existing ?? null) }) };
  const em = {
    getRepository: () => ({ findByEmail: jest.fn().mockResolvedValue(options.existing ?? null) }),
    transactional: jest.fn((work: (em: typeof tx) => unknown) => work(tx)),
  };
  const fakes = {
    hasher: { hash: jest.fn().mockResolvedValue('new-hash'), verify: jest.fn(), verifyDummy: jest.fn().mockResolvedValue(false), needsRehash: jest.fn().mockReturnValue(false) },
    policy: { assertAcceptable: jest.fn() },
    sessions: { hasLiveSessionFrom: jest.fn().mockResolvedValue(false), start: jest.fn(() => ({ session: { id: 'session-1' }, refreshToken: 'refresh' })) },
    accessTokens: { sign: jest.fn().mockReturnValue('access'), lifetimeSeconds: 900 },
    tokens: { issue: jest.fn().mockResolvedValue('confirmation-token') },
    outbox: { record: jest.fn() },
    limits: { consume: jest.fn(), giveBack: jest.fn(), count: jest.fn().mockResolvedValue(true) },
    events: { record: jest.fn() },
  };
  const config = { emailConfirmationRequired: options.emailConfirmationRequired ?? false, confirmationTokenTtlMs: 60_000 };
  // The constructor's parameter types are the real classes; the fakes cover what the flows call.
  const Service = AuthService as unknown as new (...dependencies: unknown[]) => AuthService;
  const { hasher, policy, sessions, accessTokens, tokens, outbox, limits, events } = fakes;
  const auth = new Service(em, hasher, policy, sessions, accessTokens, tokens, outbox, limits, events, config);
  return { auth, em, tx, ...fakes };
}

const meta = { ip: '203.0.113.7', userAgent: 'test' };

describe('AuthService', () => {
  describe('login', () => {
    it('opens the session inside one transaction, through the manager it hands, once the password is right', async () => {
      const user = new User('ann@example.com', 'stored-hash');
      const { auth, tx, hasher, limits, sessions } = build({ existing: user });
      hasher.verify.mockResolvedValue(true);
      const signedIn = await auth.login('ann@example.com', 'right password', meta);
      expect(sessions.start).toHaveBeenCalledWith(tx, user, meta, 'password');
      expect(limits.giveBack).toHaveBeenCalledWith('loginPerAccount', 'ann@example.com');
      expect(signedIn).toMatchObject({ accessToken: 'access', refreshToken: 'refresh', tokenType: 'Bearer', user: { email: 'ann@example.com' } });
    });

    it('refuses a wrong password without giving the limit point back, and logs a masked address', async () => {
      const { auth, hasher, limits, events, sessions } = build({ existing: new User('ann@example.com', 'stored-hash') });
      hasher.verify.mockResolvedValue(false);
      await expect(auth.login('ann@example.com', 'wrong', meta)).rejects.toBeInstanceOf(InvalidCredentialsError);
      expect(limits.consume).toHaveBeenCalledWith('loginPerAccount', 'ann@example.com');
      expect(limits.giveBack).not.toHaveBeenCalled();
      expect(sessions.start).not.toHaveBeenCalled();
      expect(events.record).toHaveBeenCalledWith('auth.signin.failed', { email: 'a***@example.com', ip: meta.ip, knownAccount: true });
    });

    it('does the same argon2 work for an unknown address and answers the same', async () => {
      const { auth, hasher } = build({ existing: null });
      await expect(auth.login('nobody@example.com', 'whatever', meta)).rejects.toBeInstanceOf(InvalidCredentialsError);
      expect(hasher.verifyDummy).toHaveBeenCalledWith('whatever');
    });

    it('answers an account without a password (made through a provider) like a wrong password, with the same argon2 work', async () => {
      const { auth, hasher, limits, sessions } = build({ existing: new User('ann@example.com', null) });
      await expect(auth.login('ann@example.com', 'anything at all', meta)).rejects.toBeInstanceOf(InvalidCredentialsError);
      expect(hasher.verifyDummy).toHaveBeenCalledWith('anything at all');
      expect(hasher.verify).not.toHaveBeenCalled();
      expect(limits.giveBack).not.toHaveBeenCalled();
      expect(sessions.start).not.toHaveBeenCalled();
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
  });
});

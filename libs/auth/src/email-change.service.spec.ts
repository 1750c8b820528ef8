import { TokenPurpose } from '@accounts/tokens';
import { User } from '@accounts/users';
import { AuthenticationRequiredError, SameEmailError, TooManyRequestsError, WrongCurrentPasswordError } from './auth.errors';
import { EmailChangeService } from './email-change.service';
import { ReauthenticationRequiredError } from './oidc.errors';

/**
 * The request of an email change with its collaborators faked (seams we own) and the entity
 * manager at its edge: what it does for a free, a taken and a capped address must not differ in
 * anything the caller can see.
 */
function build(options: { taken?: User | null; mailAllowed?: boolean; refusal?: Error; lockedHash?: string } = {}) {
  const user = new User('ann@example.com', 'stored-hash', 'Ann');
  const locked = Object.assign(new User('ann@example.com', options.lockedHash ?? 'stored-hash', 'Ann'), { id: user.id });
  const tx = {
    getRepository: () => ({ findByEmailHeld: jest.fn().mockResolvedValue(options.taken ?? null), findByIdLocked: jest.fn().mockResolvedValue(locked) }),
  };
  const em = {
    findOneOrFail: jest.fn().mockResolvedValue(user),
    transactional: jest.fn((work: (em: typeof tx) => unknown) => work(tx)),
  };
  const fakes = {
    auth: {
      assertRecentAuthentication: jest.fn(async () => {
        if (options.refusal) throw options.refusal;
        return user;
      }),
    },
    hasher: {},
    tokens: { issue: jest.fn().mockResolvedValue('change-token'), revokeOutstanding: jest.fn() },
    sessions: { isAlive: jest.fn().mockResolvedValue(true) },
    outbox: { record: jest.fn() },
    activity: { record: jest.fn() },
    limits: { consume: jest.fn(), giveBack: jest.fn(), count: jest.fn().mockResolvedValue(options.mailAllowed ?? true) },
    events: { record: jest.fn() },
  };
  const config = { emailChangeTokenTtlMs: 3_600_000 };
  const Service = EmailChangeService as unknown as new (...dependencies: unknown[]) => EmailChangeService;
  const { auth, hasher, tokens, sessions, outbox, activity, limits, events } = fakes;
  const service = new Service(em, auth, hasher, tokens, sessions, outbox, activity, limits, events, {}, {}, config);
  return { service, user, em, tx, ...fakes };
}

const principal = { userId: 'user-1', sessionId: 'session-1' };
const client = { ip: '203.0.113.7', userAgent: 'test' };

describe('EmailChangeService.request', () => {
  it('takes the per-account point before the password is checked, then mails the new address a link bound to it, without the name', async () => {
    const { service, user, tx, auth, limits, tokens, outbox, activity } = build();
    await service.request(principal, ' New@Example.com ', 'right password', client);
    expect(limits.consume.mock.invocationCallOrder[0]).toBeLessThan(auth.assertRecentAuthentication.mock.invocationCallOrder[0]);
    expect(limits.consume).toHaveBeenCalledWith('emailChangePerAccount', user.id);
    expect(limits.count).toHaveBeenCalledWith('mailPerAddress', 'new@example.com');
    // Bound to the password it was asked with: a link outlives no change of it.
    expect(tokens.issue).toHaveBeenCalledWith(tx, user, TokenPurpose.EmailChange, 3_600_000, 'stored-hash', 'New@Example.com');
    expect(outbox.record).toHaveBeenCalledWith(tx, 'email.change-requested', expect.any(Function));
    const payload = outbox.record.mock.calls[0][2]({ seal: (token: string) => ({ sealed: `sealed:${token}` }) });
    expect(payload).toEqual({ v: 1, userId: user.id, email: 'New@Example.com', name: null, changeToken: { sealed: 'sealed:change-token' } });
    expect(activity.record).toHaveBeenCalledWith(tx, user.id, 'email.change_requested', client);
  });

  it('for a taken address supersedes the earlier link, records the same activity and notifies the owner without a link', async () => {
    const owner = new User('taken@example.com', 'other-hash', 'Olga');
    owner.emailConfirmedAt = new Date();
    const { service, user, tx, tokens, outbox, activity } = build({ taken: owner });
    await service.request(principal, 'taken@example.com', 'right password', client);
    expect(tokens.revokeOutstanding).toHaveBeenCalledWith(tx, user.id, TokenPurpose.EmailChange);
    expect(tokens.issue).not.toHaveBeenCalled();
    const [, name, payloadOf] = outbox.record.mock.calls[0];
    expect(name).toBe('email.change-attempted');
    expect(payloadOf()).toEqual({ v: 1, userId: owner.id, email: 'taken@example.com', name: 'Olga' });
    expect(activity.record).toHaveBeenCalledWith(tx, user.id, 'email.change_requested', client);
  });

  it('above the per-address mail cap sends nothing and keeps the earlier link, for free and taken addresses alike', async () => {
    for (const taken of [null, new User('taken@example.com', 'other-hash')]) {
      const { service, tokens, outbox, activity } = build({ taken, mailAllowed: false });
      await service.request(principal, 'taken@example.com', 'right password', client);
      expect({ issued: tokens.issue.mock.calls.length, revoked: tokens.revokeOutstanding.mock.calls.length, mailed: outbox.record.mock.calls.length }).toEqual({
        issued: 0,
        revoked: 0,
        mailed: 0,
      });
      expect(activity.record).toHaveBeenCalledTimes(1);
    }
  });

  it('gives the per-account point back for a wrong password, or one refused by the password count (that has a count of its own), and changes nothing', async () => {
    for (const refusal of [new WrongCurrentPasswordError(), new TooManyRequestsError(60)]) {
      const { service, user, limits, em, outbox } = build({ refusal });
      await expect(service.request(principal, 'new@example.com', 'wrong', client)).rejects.toBe(refusal);
      expect(limits.giveBack).toHaveBeenCalledWith('emailChangePerAccount', user.id);
      expect(em.transactional).not.toHaveBeenCalled();
      expect(outbox.record).not.toHaveBeenCalled();
    }
  });

  it('issues no link when the password changed under the row lock after it was verified (a reset or undo won)', async () => {
    const { service, tokens, outbox, activity } = build({ lockedHash: 'hash-set-meanwhile' });
    await expect(service.request(principal, 'new@example.com', 'right password', client)).rejects.toBeInstanceOf(AuthenticationRequiredError);
    expect(tokens.issue).not.toHaveBeenCalled();
    expect(outbox.record).not.toHaveBeenCalled();
    expect(activity.record).not.toHaveBeenCalled();
  });

  it('re-authenticates through the one check (no password for an account without one) and gives the point back when the sign-in is too old', async () => {
    const { service, user, limits, em, auth } = build({ refusal: new ReauthenticationRequiredError() });
    await expect(service.request(principal, 'new@example.com', undefined, client)).rejects.toBeInstanceOf(ReauthenticationRequiredError);
    expect(auth.assertRecentAuthentication).toHaveBeenCalledWith(principal, undefined);
    expect(limits.giveBack).toHaveBeenCalledWith('emailChangePerAccount', user.id);
    expect(em.transactional).not.toHaveBeenCalled();
  });

  it('refuses the current address in any case before counting anything', async () => {
    const { service, limits, auth } = build();
    await expect(service.request(principal, ' ANN@example.com', 'right password', client)).rejects.toBeInstanceOf(SameEmailError);
    expect(limits.consume).not.toHaveBeenCalled();
    expect(auth.assertRecentAuthentication).not.toHaveBeenCalled();
  });
});

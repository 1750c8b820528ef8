import type { EntityManager } from '@mikro-orm/postgresql';
import { hashSecretToken } from '@accounts/tokens';
import type { User } from '@accounts/users';
import { InvalidRefreshTokenError } from './auth.errors';
import type { SecurityEvents } from './security-events.service';
import { Session } from './session.entity';
import { SessionsService } from './sessions.service';

const DAY_MS = 24 * 60 * 60 * 1_000;
const user = { id: 'user-1' } as User;

/** The caller's entity manager, faked at its edge; `spent` is what the atomic UPDATE returns. */
function fakeEm(spent: Array<{ session_id: string }> = [], found: Record<string, unknown> = {}) {
  const em: Record<string, jest.Mock | (() => unknown)> = {
    create: jest.fn((entity: new () => object, data: object) => Object.assign(new entity(), data)),
    persist: jest.fn(),
    nativeUpdate: jest.fn().mockResolvedValue(1),
    findOne: jest.fn().mockResolvedValue(found.reused ?? null),
    findOneOrFail: jest.fn().mockResolvedValue(found.session),
    getConnection: () => ({ execute: jest.fn().mockResolvedValue(spent) }),
    getTransactionContext: () => ({}),
  };
  em.transactional = jest.fn((work: (tx: unknown) => unknown) => work(em));
  return em as Record<'create' | 'persist' | 'nativeUpdate' | 'findOne' | 'findOneOrFail' | 'transactional', jest.Mock>;
}

/** What the service sees of a fake. */
const asEm = (fake: object) => fake as unknown as EntityManager;

function service() {
  const events = { record: jest.fn() };
  const sessions = new SessionsService(events as unknown as SecurityEvents, { refreshTokenTtlMs: 30 * DAY_MS } as never);
  return { sessions, events };
}

function liveSession(): Session {
  const session = new Session();
  Object.assign(session, { id: 'session-1', user: { getEntity: () => user }, revokedAt: null, expiresAt: new Date(Date.now() + DAY_MS), userAgent: null, ip: null });
  return session;
}

describe('SessionsService', () => {
  it("opens a session in the caller's unit of work, with a refresh token stored by its hash only", () => {
    const { sessions } = service();
    const em = fakeEm();
    const { session, refreshToken } = sessions.start(asEm(em), user, { userAgent: 'Agent\r\nX-Forged: 1', ip: '203.0.113.7' });
    expect(session.userAgent).toBe('AgentX-Forged: 1');
    expect(session.expiresAt.getTime() - session.createdAt.getTime()).toBe(30 * DAY_MS);
    const stored = em.persist.mock.calls[0][0] as { tokenHash: string };
    expect(stored.tokenHash).toBe(hashSecretToken(refreshToken));
  });

  it('rotates a live refresh token into a new one of the same session', async () => {
    const { sessions } = service();
    const session = liveSession();
    const em = fakeEm([{ session_id: 'session-1' }], { session });
    const rotated = await sessions.rotate(asEm(em), 'old-token', { ip: '203.0.113.8' });
    expect(rotated.session).toBe(session);
    expect(rotated.user).toBe(user);
    expect(session.ip).toBe('203.0.113.8');
    expect(hashSecretToken(rotated.refreshToken)).toBe((em.persist.mock.calls[0][0] as { tokenHash: string }).tokenHash);
  });

  it('ends the whole session when a spent refresh token comes back, and refuses it', async () => {
    const { sessions, events } = service();
    const em = fakeEm([], { reused: { session: { id: 'session-1' } } });
    await expect(sessions.rotate(asEm(em), 'spent-token', {})).rejects.toBeInstanceOf(InvalidRefreshTokenError);
    expect(em.nativeUpdate).toHaveBeenCalledWith(Session, { id: 'session-1', revokedAt: null }, { revokedAt: expect.any(Date) });
    expect(events.record).toHaveBeenCalledWith('auth.refresh.reused', { sessionId: 'session-1', action: 'session revoked' });
  });

  it('refuses a refresh token of a session that has ended or an unknown one, revoking nothing', async () => {
    const { sessions } = service();
    const ended = Object.assign(liveSession(), { revokedAt: new Date() });
    await expect(sessions.rotate(asEm(fakeEm([{ session_id: 'session-1' }], { session: ended })), 'token', {})).rejects.toBeInstanceOf(InvalidRefreshTokenError);
    const unknown = fakeEm();
    await expect(sessions.rotate(asEm(unknown), 'token', {})).rejects.toBeInstanceOf(InvalidRefreshTokenError);
    expect(unknown.nativeUpdate).not.toHaveBeenCalled();
  });
});

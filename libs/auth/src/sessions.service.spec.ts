import type { EntityManager } from '@mikro-orm/postgresql';
import { hashSecretToken } from '@accounts/tokens';
import type { User } from '@accounts/users';
import type { SecurityEvents } from './security-events.service';
import { SessionsService } from './sessions.service';

const DAY_MS = 24 * 60 * 60 * 1_000;
const user = { id: 'user-1' } as User;

/** The caller's entity manager, faked at its edge. */
function fakeEm() {
  return {
    create: jest.fn((entity: new () => object, data: object) => Object.assign(new entity(), data)),
    persist: jest.fn(),
  };
}

/** What the service sees of a fake. */
const asEm = (fake: object) => fake as unknown as EntityManager;

function service() {
  const events = { record: jest.fn() };
  const sessions = new SessionsService(events as unknown as SecurityEvents, {} as never, { refreshTokenTtlMs: 30 * DAY_MS } as never);
  return { sessions, events };
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
  // Rotation is one SQL statement: test/sessions.e2e-spec.ts and test/security/sessions.e2e-spec.ts
  // prove it against PostgreSQL (spend, reuse, races, ended sessions, the session's touch).
});

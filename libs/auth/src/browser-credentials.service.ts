import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { generateSecretToken, hashSecretToken } from '@accounts/tokens';
import { AccountActivityService, type User } from '@accounts/users';
import { InvalidRefreshTokenError } from './auth.errors';
import { BrowserCredential } from './browser-credential.entity';
import { RefreshToken } from './refresh-token.entity';
import { SecurityEvents } from './security-events.service';
import type { SessionMeta } from './session-meta.util';
import { Session } from './session.entity';

/** A credential in use longer than this is replaced on the browser's next request. */
export const BROWSER_CREDENTIAL_ROTATE_AFTER_MS = 5 * 60_000;
/** How long a replaced credential still works: requests of parallel tabs already on their way. */
export const BROWSER_CREDENTIAL_GRACE_MS = 60_000;

/** A signed-in browser: its session and user, and a replacement credential when one was issued. */
export interface BrowserSession {
  session: Session;
  user: User;
  /** Set when the credential was rotated: the browser must store this one instead. */
  rotatedCredential?: string;
}

/**
 * The credentials browser sessions carry in their cookie. They name a session of the same table
 * as the API's (so sign-out everywhere, a reset or a password change end them too) but are no
 * refresh token: the JSON API never accepts them, and they rotate while in use. A credential used
 * after its replacement's grace has leaked (or was copied): its session ends, as with refresh reuse.
 */
@Injectable()
export class BrowserCredentialsService {
  constructor(
    private readonly em: EntityManager,
    private readonly events: SecurityEvents,
    private readonly activity: AccountActivityService,
  ) {}

  /**
   * Turns a session sign-in just opened into a browser session: its refresh token, which never
   * left the server, is deleted and a browser credential takes its place. Returns the credential
   * and when the session ends.
   */
  async adopt(refreshToken: string): Promise<{ credential: string; expiresAt: Date }> {
    return this.em.transactional(async (em) => {
      const record = await em.findOne(RefreshToken, { tokenHash: hashSecretToken(refreshToken), usedAt: null }, { populate: ['session'] });
      if (!record) throw new InvalidRefreshTokenError();
      const session = record.session.getEntity();
      em.remove(record);
      return { credential: this.issue(em, session), expiresAt: session.expiresAt };
    });
  }

  /** The live session a credential names, replacing the credential when it is due; else null. */
  async resolve(credential: string): Promise<BrowserSession | null> {
    const tokenHash = hashSecretToken(credential);
    const record = await this.em.findOne(BrowserCredential, { tokenHash }, { populate: ['session', 'session.user'] });
    const session = record?.session.getEntity();
    if (!record || !session?.isAlive()) return null;
    const user = session.user.getEntity();
    const now = Date.now();
    if (record.replacedAt !== null) {
      if (now - record.replacedAt.getTime() <= BROWSER_CREDENTIAL_GRACE_MS) return { session, user };
      await this.em.nativeUpdate(Session, { id: session.id, revokedAt: null }, { revokedAt: new Date() });
      this.events.record('auth.browser.reused', { sessionId: session.id, action: 'session revoked' });
      return null;
    }
    if (now - record.createdAt.getTime() < BROWSER_CREDENTIAL_ROTATE_AFTER_MS) return { session, user };
    return this.rotate(tokenHash, session, user);
  }

  /**
   * Ends the session a credential names (replaced or not); unknown credentials are ignored. A live
   * session that ends is recorded in its owner's activity (session.revoked).
   */
  async end(credential: string, meta: SessionMeta = {}): Promise<void> {
    const record = await this.em.findOne(BrowserCredential, { tokenHash: hashSecretToken(credential) }, { populate: ['session'] });
    if (!record) return;
    const session = record.session.getEntity();
    const ended = await this.em.transactional(async (em) => {
      const count = await em.nativeUpdate(Session, { id: session.id, revokedAt: null }, { revokedAt: new Date() });
      if (count > 0) this.activity.record(em, session.user.id, 'session.revoked', meta);
      return count;
    });
    if (ended > 0) this.events.record('auth.session.revoked', { sessionId: session.id, scope: 'browser' });
  }

  /**
   * Withdraws every credential of the session (copies of the cookie, tabs within their grace) and
   * issues the one the calling browser keeps: after a password change, a cookie copied before it
   * signs nobody in. Deleted rather than marked replaced, so presenting one is not reuse that
   * would end the session of the browser that changed the password.
   */
  async reissue(session: Session): Promise<{ credential: string; expiresAt: Date }> {
    return this.em.transactional(async (em) => {
      await em.nativeDelete(BrowserCredential, { session: session.id });
      return { credential: this.issue(em, session), expiresAt: session.expiresAt };
    });
  }

  /** The replacement is claimed with one atomic UPDATE: of parallel requests, one rotates, the rest ride the grace. */
  private async rotate(tokenHash: string, session: Session, user: User): Promise<BrowserSession> {
    return this.em.transactional(async (em) => {
      const claimed = await em.nativeUpdate(BrowserCredential, { tokenHash, replacedAt: null }, { replacedAt: new Date() });
      if (claimed === 0) return { session, user };
      await em.nativeUpdate(Session, { id: session.id }, { lastUsedAt: new Date() });
      return { session, user, rotatedCredential: this.issue(em, session) };
    });
  }

  private issue(em: EntityManager, session: Session): string {
    const credential = generateSecretToken();
    em.persist(em.create(BrowserCredential, { tokenHash: hashSecretToken(credential), session: em.getReference(Session, session.id) }));
    return credential;
  }
}

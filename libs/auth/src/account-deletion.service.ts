import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { MailQueueScrubber, OutboxService } from '@accounts/mail/outbox';
import { AccountActivityService, User } from '@accounts/users';
import type { Principal } from './access-token.service';
import { AuthenticationRequiredError } from './auth.errors';
import { AuthService } from './auth.service';
import { RateLimits } from './rate-limits.service';
import { SecurityEvents } from './security-events.service';
import type { SessionMeta } from './session-meta.util';
import { SessionsService } from './sessions.service';

/**
 * Deletes an account at its owner's request (SPEC §10), in one transaction: the user row and with
 * it (foreign keys cascade) its sessions, refresh tokens, browser credentials, one-time tokens and
 * whatever else belongs to it; its activity rows keep only the user id; its outbox rows go; the
 * `user.deleted` notice is recorded, carrying the address and nothing else. After the commit, the
 * failed mail jobs about the user are removed from Redis in the background.
 */
@Injectable()
export class AccountDeletionService {
  constructor(
    private readonly em: EntityManager,
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly activity: AccountActivityService,
    private readonly outbox: OutboxService,
    private readonly queue: MailQueueScrubber,
    private readonly limits: RateLimits,
    private readonly events: SecurityEvents,
  ) {}

  /**
   * Deletes the caller's account after re-authentication (AuthService.assertRecentAuthentication:
   * `currentPassword`, counted like every current password, or for an account without one a recent
   * provider sign-in). What was checked must still hold under the row lock: this session alive and
   * the password the one verified, or still none (else AuthenticationRequiredError), so a reset or
   * sign-out everywhere that won the race wins.
   */
  async deleteAccount(principal: Principal, currentPassword: string | undefined, meta: SessionMeta = {}): Promise<void> {
    const user = await this.auth.assertRecentAuthentication(principal, currentPassword);
    const verifiedHash = user.passwordHash;
    await this.em.fork().transactional(async (em) => {
      const fresh = await em.getRepository(User).findByIdLocked(user.id);
      const stillValid = fresh?.passwordHash === verifiedHash && (await this.sessions.isAlive(em, principal.sessionId, user.id));
      if (!fresh || !stillValid) throw new AuthenticationRequiredError();
      await this.erase(em, fresh, { notify: true });
    });
    this.events.record('auth.account.deleted', { userId: user.id, ip: meta.ip });
    this.forgetMailSoon(user.id);
    await this.limits.clear('currentPasswordPerAccount', user.id);
  }

  /**
   * Deletes an account in the caller's transaction, which holds its row: the credentials, the
   * activity's details, the outbox rows, then the row (the rest cascades). `notify`: whether the
   * address gets `user.deleted`. After the commit, call forgetMailSoon.
   */
  async erase(em: EntityManager, user: User, { notify }: { notify: boolean }): Promise<void> {
    const run = (sql: string) => em.getConnection().execute(sql, [user.id], 'run', em.getTransactionContext());
    // The credentials before the sessions, the order a refresh or a browser rotation locks them in
    // (its token, then its session): a refresh in flight waits or loses, and never deadlocks us.
    await run('delete from refresh_tokens where session_id in (select id from sessions where user_id = ?)');
    await run('delete from browser_credentials where session_id in (select id from sessions where user_id = ?)');
    await this.activity.anonymise(em, user.id);
    await this.outbox.forgetUser(em, user.id);
    // No name: the row outlives the account for OUTBOX_RETENTION once published.
    if (notify) this.outbox.record(em, 'user.deleted', () => ({ v: 1, userId: user.id, email: user.email, name: null }));
    await em.flush();
    await run('delete from users where id = ?');
  }

  /** Removes the failed mail jobs about a deleted account from Redis, in the background. */
  forgetMailSoon(userId: string): void {
    this.queue.forgetUserSoon(userId);
  }
}

import { randomUUID } from 'node:crypto';
import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { authConfig } from '@accounts/config';
import { generateSecretToken, hashSecretToken } from '@accounts/tokens';
import { PreparedStatements, type SqlFragment } from '@accounts/database';
import { cleanClientMeta, type User, type UserRow } from '@accounts/users';
import { InvalidRefreshTokenError, SessionNotFoundError } from './auth.errors';
import { RefreshToken } from './refresh-token.entity';
import type { SessionMeta } from './session-meta.util';
import { SecurityEvents } from './security-events.service';
import { Session, type SignInMethod } from './session.entity';

export interface SessionView {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

/**
 * Sessions and their refresh-token families: start, rotate, revoke, check. A method that takes an
 * entity manager works in the caller's unit of work and never uses one of its own; the hot paths'
 * single statements (startProven, rotate, liveSessionUser, accountForSignIn) take none: each runs
 * on its own, prepared (PreparedStatements).
 */
@Injectable()
export class SessionsService {
  constructor(
    private readonly events: SecurityEvents,
    private readonly prepared: PreparedStatements,
    @Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>,
  ) {}

  /** Opens a session in the caller's unit of work and returns its first refresh token. */
  start(em: EntityManager, user: User, meta: SessionMeta, signInMethod: SignInMethod = 'password'): { session: Session; refreshToken: string } {
    const now = new Date();
    const session = em.create(Session, {
      user,
      createdAt: now,
      lastUsedAt: now,
      signInMethod,
      signedInAt: now,
      expiresAt: new Date(now.getTime() + this.config.refreshTokenTtlMs),
      ...cleanClientMeta(meta),
    });
    const refreshToken = this.addRefreshToken(em, session);
    return { session, refreshToken };
  }

  /**
   * Opens a session for a user whose first factor has just been checked against `proven` (the
   * password hash and canonical address it read), in ONE statement: sign-in is a hot path. The
   * statement holds the account row (`holder`, FOR NO KEY UPDATE) and writes only while it still
   * holds what was proven and MFA is still off: a reset, password change, undo or handover that
   * committed meanwhile ended every session, and this sign-in must not open one after it. It stores
   * `rehashed` as the new password hash when given, and runs `alongside` (an
   * `insert … select … from holder`, such as the activity row) with it. Returns null when the
   * account no longer holds what was proven.
   */
  async startProven(
    proven: { userId: string; passwordHash: string | null; emailCanonical: string },
    meta: SessionMeta,
    signInMethod: SignInMethod,
    rehashed: string | undefined,
    alongside: SqlFragment,
  ): Promise<{ sessionId: string; refreshToken: string } | null> {
    const sessionId = randomUUID();
    const refreshToken = generateSecretToken();
    const { userAgent, ip } = cleanClientMeta(meta);
    const rehash = rehashed === undefined ? '' : 'rehashed as (update users set password_hash = ? where id in (select id from holder)),';
    // The hash is compared by its SHA-256 (hashSecretToken): a statement's values can show up in the
    // server's logs (a failing statement with its parameters), and must not carry it.
    const sameHash = proven.passwordHash === null ? 'password_hash is null' : "sha256(convert_to(password_hash, 'UTF8')) = decode(?, 'hex')";
    const held = await this.prepared.rows(
      `with holder as (
         select id from users
          where id = ? and ${sameHash} and email_canonical = ? and mfa_enabled_at is null
          for no key update
       ), ${rehash} opened as (
         insert into sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip, sign_in_method, signed_in_at)
         select ?, id, now(), now(), now() + ? * interval '1 millisecond', ?, ?, ?, now() from holder
       ), first_token as (
         insert into refresh_tokens (token_hash, session_id, created_at) select ?, ?, now() from holder
       ), alongside as (
         ${alongside.sql}
       )
       select id from holder`,
      [
        proven.userId,
        ...(proven.passwordHash === null ? [] : [hashSecretToken(proven.passwordHash)]),
        proven.emailCanonical,
        ...(rehashed === undefined ? [] : [rehashed]),
        sessionId,
        this.config.refreshTokenTtlMs,
        userAgent,
        ip,
        signInMethod,
        hashSecretToken(refreshToken),
        sessionId,
        ...alongside.params,
      ],
    );
    return held.length === 1 ? { sessionId, refreshToken } : null;
  }

  /**
   * Spends a refresh token and returns its successor, with the session's id and its user's row
   * (for userViewOfRow). The spend, the session's touch and the successor are ONE statement:
   * a refresh is the hottest write path, and each round trip to PostgreSQL costs the API a socket
   * write and a wake-up. The spend is an atomic UPDATE, so of many parallel refreshes with one token
   * exactly one wins. A token that was already spent means it leaked or a client raced itself: its
   * whole session ends.
   */
  async rotate(token: string, meta: SessionMeta): Promise<{ sessionId: string; user: UserRow; refreshToken: string }> {
    const tokenHash = hashSecretToken(token);
    const refreshToken = generateSecretToken();
    const cleaned = cleanClientMeta(meta);
    // No row: the token was not live (unknown, or spent before). A row without a session: it was
    // spent now, but its session had ended (revoked or past its absolute lifetime).
    const rows = await this.prepared.rows<UserRow>(
      `with spent as (
         update refresh_tokens set used_at = now()
          where token_hash = ? and used_at is null
         returning session_id
       ), live as (
         update sessions s
            set last_used_at = now(), user_agent = coalesce(?, s.user_agent), ip = coalesce(?, s.ip)
           from spent
          where s.id = spent.session_id and s.revoked_at is null and s.expires_at > now()
         returning s.id, s.user_id
       ), successor as (
         insert into refresh_tokens (token_hash, session_id, created_at)
         select ?, live.id, now() from live
       )
       select live.id as rotated_session_id, u.*
         from spent left join live on true left join users u on u.id = live.user_id`,
      [tokenHash, cleaned.userAgent, cleaned.ip, hashSecretToken(refreshToken)],
    );
    if (rows.length === 0) await this.endReusedFamily(tokenHash);
    const [row] = rows;
    if (!row?.rotated_session_id) throw new InvalidRefreshTokenError();
    const { rotated_session_id: sessionId, ...user } = row;
    return { sessionId: sessionId as string, user, refreshToken };
  }

  /** A spent token came back: the session it belonged to ends (a no-op for unknown tokens). */
  private async endReusedFamily(tokenHash: string): Promise<void> {
    const reused = await this.prepared.rows<{ session_id: string }>(
      `with reused as (select session_id from refresh_tokens where token_hash = ?),
            ended as (update sessions set revoked_at = now() where id in (select session_id from reused) and revoked_at is null)
       select session_id from reused`,
      [tokenHash],
    );
    if (reused.length > 0) this.events.record('auth.refresh.reused', { sessionId: reused[0].session_id, action: 'session revoked' });
  }

  /**
   * Ends the session a refresh token belongs to (spent or not); unknown tokens are ignored. Returns
   * the user whose live session ended, or null when none did (unknown token, session over).
   */
  async revokeByRefreshToken(em: EntityManager, token: string): Promise<string | null> {
    const record = await em.findOne(RefreshToken, { tokenHash: hashSecretToken(token) }, { populate: ['session'] });
    if (!record) return null;
    const session = record.session.getEntity();
    const ended = await em.nativeUpdate(Session, { id: session.id, revokedAt: null }, { revokedAt: new Date() });
    this.events.record('auth.session.revoked', { sessionId: session.id, scope: 'logout' });
    return ended > 0 ? session.user.id : null;
  }

  async revoke(em: EntityManager, userId: string, sessionId: string): Promise<void> {
    const revoked = await em.nativeUpdate(
      Session,
      { id: sessionId, user: userId, revokedAt: null },
      { revokedAt: new Date() },
    );
    if (revoked === 0) throw new SessionNotFoundError();
    this.events.record('auth.session.revoked', { userId, sessionId, scope: 'one' });
  }

  /** Ends every live session of a user and every one waiting to open, optionally sparing one (the caller's). */
  async revokeAll(em: EntityManager, userId: string, exceptSessionId?: string): Promise<number> {
    // An identity provider's one-time exchange code is a session not yet opened: a first factor
    // proven before whatever ends the sessions now must not open one after it.
    await em.getConnection().execute('delete from oidc_exchange_codes where user_id = ?', [userId], 'run', em.getTransactionContext());
    return em.nativeUpdate(
      Session,
      { user: userId, revokedAt: null, ...(exceptSessionId ? { id: { $ne: exceptSessionId } } : {}) },
      { revokedAt: new Date() },
    );
  }

  async list(em: EntityManager, userId: string, currentSessionId: string): Promise<SessionView[]> {
    const sessions = await em.find(
      Session,
      { user: userId, revokedAt: null, expiresAt: { $gt: new Date() } },
      { orderBy: { lastUsedAt: 'desc' } },
    );
    return sessions.map((session) => ({
      id: session.id,
      createdAt: session.createdAt.toISOString(),
      lastUsedAt: session.lastUsedAt.toISOString(),
      userAgent: session.userAgent,
      ip: session.ip,
      current: session.id === currentSessionId,
    }));
  }

  /**
   * The per-request check behind every bearer token: is its session still alive? Inside a
   * transaction it runs on that transaction's connection (a second one could wait on the first).
   */
  async isAlive(em: EntityManager, sessionId: string, userId: string): Promise<boolean> {
    const rows: unknown[] = await em.getConnection().execute(
      'select 1 from sessions where id = ? and user_id = ? and revoked_at is null and expires_at > now()',
      [sessionId, userId],
      'all',
      em.getTransactionContext(),
    );
    return rows.length === 1;
  }

  /**
   * The per-request check behind every bearer token, and the account it speaks for, in one
   * statement: the row of `users` (as PostgreSQL returns it, for userViewOfRow) while the
   * session is alive, else undefined. Sign-out therefore takes effect on the very next request.
   */
  async liveSessionUser(sessionId: string, userId: string): Promise<UserRow | undefined> {
    const rows = await this.prepared.rows<UserRow>(
      'select u.* from sessions s join users u on u.id = s.user_id where s.id = ? and s.user_id = ? and s.revoked_at is null and s.expires_at > now()',
      [sessionId, userId],
    );
    return rows[0];
  }

  /**
   * What a sign-in reads before argon2, in one statement: the account of an address (the row of
   * `users`, for em.map) and the addresses its live sessions were last used from, which decide
   * whether the sign-in comes from a network of the owner's own (see AuthService.signInKey). An
   * unknown address runs the same statement and finds nothing.
   */
  async accountForSignIn(emailCanonical: string): Promise<{ user: UserRow | undefined; liveSessionIps: string[] }> {
    const rows = await this.prepared.rows<UserRow & { live_session_ips: string[] }>(
      `select u.*, array(
                select distinct s.ip from sessions s
                 where s.user_id = u.id and s.revoked_at is null and s.expires_at > now() and s.ip is not null
                 limit 100) as live_session_ips
         from users u where u.email_canonical = ?`,
      [emailCanonical],
    );
    if (rows.length === 0) return { user: undefined, liveSessionIps: [] };
    const { live_session_ips: liveSessionIps, ...user } = rows[0];
    return { user, liveSessionIps };
  }

  private addRefreshToken(em: EntityManager, session: Session): string {
    const token = generateSecretToken();
    em.persist(em.create(RefreshToken, { tokenHash: hashSecretToken(token), session }));
    return token;
  }
}

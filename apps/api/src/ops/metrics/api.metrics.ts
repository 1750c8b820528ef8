import { MikroORM } from '@mikro-orm/core';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { withinDeadline } from '@accounts/config';
import { SecurityEvents, type LimitName, type SecurityEvent, type SecurityEventFields } from '@accounts/auth';

const LIMITS: LimitName[] = ['loginPerAccount', 'authPerIp', 'mailPerAddress', 'tokenGuessPerIp', 'currentPasswordPerAccount', 'mfaPerAccount'];
const SIGN_IN_OUTCOMES = ['success', 'invalid_credentials', 'unconfirmed', 'throttled', 'mfa_required', 'invalid_mfa_code'] as const;
const SIGN_IN_EVENTS: Partial<Record<SecurityEvent, (typeof SIGN_IN_OUTCOMES)[number]>> = {
  'auth.signin.succeeded': 'success',
  'auth.signin.failed': 'invalid_credentials',
  'auth.signin.unconfirmed': 'unconfirmed',
  'auth.signin.mfa_required': 'mfa_required',
  'auth.signin.mfa_failed': 'invalid_mfa_code',
};
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A scrape never waits longer than this on PostgreSQL; the outbox series are left out instead. */
const OUTBOX_QUERY_TIMEOUT_MS = 2_000;
/** The backlog and the lag come from one query, shared by the scrape that asked for it. */
const OUTBOX_SNAPSHOT_TTL_MS = 1_000;

interface OutboxSnapshot {
  backlog: number;
  lagSeconds: number;
}

/**
 * The API's Prometheus metrics, in a registry of its own (GET /metrics). HTTP requests are counted
 * by route pattern, never by raw URL; sign-ins and throttles come from the security events; the
 * outbox series are read from the outbox table when Prometheus scrapes.
 */
@Injectable()
export class ApiMetrics implements OnModuleInit {
  readonly registry = new Registry();
  private readonly logger = new Logger(ApiMetrics.name);

  private readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly signIns = new Counter({
    name: 'auth_sign_ins_total',
    help: 'Sign-in attempts by outcome: success, invalid_credentials, unconfirmed, throttled',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  private readonly throttled = new Counter({
    name: 'auth_throttled_requests_total',
    help: 'Requests refused by an abuse limit, by limit',
    labelNames: ['limit'],
    registers: [this.registry],
  });

  private snapshot: { at: number; value: Promise<OutboxSnapshot | undefined> } | undefined;

  constructor(
    private readonly orm: MikroORM,
    private readonly securityEvents: SecurityEvents,
  ) {
    collectDefaultMetrics({ register: this.registry });
    const metrics = this;
    new Gauge({
      name: 'outbox_backlog',
      help: 'Events in the outbox not yet published to the mail queue',
      registers: [this.registry],
      async collect() {
        const snapshot = await metrics.outboxSnapshot();
        if (snapshot) this.set(snapshot.backlog);
        else this.reset();
      },
    });
    new Gauge({
      name: 'outbox_relay_lag_seconds',
      help: 'Age of the oldest unpublished outbox event (0 when the outbox is empty)',
      registers: [this.registry],
      async collect() {
        const snapshot = await metrics.outboxSnapshot();
        if (snapshot) this.set(snapshot.lagSeconds);
        else this.reset();
      },
    });
    // Every series exists from the start, so rates and alerts work before the first event.
    for (const outcome of SIGN_IN_OUTCOMES) this.signIns.inc({ outcome }, 0);
    for (const limit of LIMITS) this.throttled.inc({ limit }, 0);
  }

  onModuleInit(): void {
    this.securityEvents.observe((event, fields) => this.countSecurityEvent(event, fields));
  }

  /** One answered request; `route` is the route pattern (`/api/v1/auth/sessions/:id`), if any matched. */
  observeRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    const labels = { method: METHODS.has(method) ? method : 'OTHER', route: route ?? 'unmatched', status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  private countSecurityEvent(event: SecurityEvent, fields: SecurityEventFields): void {
    const outcome = SIGN_IN_EVENTS[event];
    if (outcome) this.signIns.inc({ outcome });
    if (event !== 'security.throttled') return;
    const limit = String(fields.limit);
    this.throttled.inc({ limit });
    // The per-account limit guards sign-in only: its refusal is a throttled sign-in.
    if (limit === 'loginPerAccount') this.signIns.inc({ outcome: 'throttled' });
  }

  private outboxSnapshot(): Promise<OutboxSnapshot | undefined> {
    const now = Date.now();
    if (!this.snapshot || now - this.snapshot.at > OUTBOX_SNAPSHOT_TTL_MS) {
      this.snapshot = { at: now, value: this.queryOutbox() };
    }
    return this.snapshot.value;
  }

  private async queryOutbox(): Promise<OutboxSnapshot | undefined> {
    try {
      const query = this.orm.em
        .fork()
        .getConnection()
        .execute<{ backlog: number; lag_seconds: number | null }>(
          `select count(*)::int as backlog,
                  coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as lag_seconds
             from outbox where published_at is null`,
          [],
          'get',
        );
      // Settled later if the timeout wins; nobody waits for it then.
      query.catch(() => undefined);
      const row = await withinDeadline(query, OUTBOX_QUERY_TIMEOUT_MS, () => {
        throw new Error(`no answer within ${OUTBOX_QUERY_TIMEOUT_MS} ms`);
      });
      return { backlog: Number(row.backlog), lagSeconds: Math.max(0, Number(row.lag_seconds ?? 0)) };
    } catch (error) {
      this.logger.warn(`Outbox metrics unavailable: ${(error as Error).message.split('\n')[0]}`);
      return undefined;
    }
  }
}

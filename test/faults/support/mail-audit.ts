import type { ApiClient } from '../../support/api-client';
import { pollUntil, waitUntil } from '../../support/polling';
import type { SmtpSink } from '../../support/smtp-sink';
import { strongPassword, uniqueEmail } from '../../support/unique';

export type Sql = <T = Record<string, unknown>>(query: string, params?: unknown[]) => Promise<T[]>;

/** The Message-ID the worker gives an event's mail (APP_URL is http://accounts.test in tests). */
export function messageIdOf(eventId: string): string {
  return `<${eventId}@accounts.test>`;
}

/** The ids of every outbox event addressed to one of `emails`: the mails that must arrive. */
export async function eventIdsFor(sql: Sql, emails: string[]): Promise<string[]> {
  if (emails.length === 0) return [];
  const rows = await sql<{ id: string }>(
    `select id from outbox where payload->>'email' in (${emails.map(() => '?').join(', ')}) order by created_at`,
    emails,
  );
  return rows.map((row) => row.id);
}

/** How often each Message-ID reached the sink. */
export function deliveryCounts(sink: SmtpSink): Map<string, number> {
  const counts = new Map<string, number>();
  for (const mail of sink.messages) counts.set(mail.messageId, (counts.get(mail.messageId) ?? 0) + 1);
  return counts;
}

export interface DeliveryReport {
  expected: number;
  delivered: number;
  missing: string[];
  /** Extra copies: messages received beyond the first for the same Message-ID. */
  duplicates: number;
  duplicatedIds: string[];
}

export function deliveryReport(sink: SmtpSink, eventIds: string[]): DeliveryReport {
  const counts = deliveryCounts(sink);
  const missing = eventIds.filter((id) => !counts.has(messageIdOf(id)));
  const duplicatedIds = eventIds.filter((id) => (counts.get(messageIdOf(id)) ?? 0) > 1);
  const duplicates = duplicatedIds.reduce((sum, id) => sum + counts.get(messageIdOf(id))! - 1, 0);
  return { expected: eventIds.length, delivered: eventIds.length - missing.length, missing, duplicates, duplicatedIds };
}

/** Waits until every event's mail reached the sink at least once; returns the report. */
export function waitForDeliveries(sink: SmtpSink, eventIds: string[], timeoutMs: number): Promise<DeliveryReport> {
  return pollUntil(
    () => deliveryReport(sink, eventIds),
    (report) => report.missing.length === 0,
    timeoutMs,
    (report) => `${report.missing.length} of ${report.expected} mails never arrived within ${timeoutMs} ms: ${report.missing.slice(0, 5).join(', ')}`,
  );
}

/** Prints what a fault test observed, so a run's output documents it. */
export function printReport(fault: string, report: DeliveryReport, extra: Record<string, unknown> = {}): void {
  const facts = { expected: report.expected, delivered: report.delivered, duplicates: report.duplicates, ...extra };
  process.stdout.write(`[fault] ${fault}: ${Object.entries(facts).map(([key, value]) => `${key}=${String(value)}`).join(' ')}\n`);
}

export interface Burst {
  /** Addresses registered (each gets a welcome mail) and asked for a reset (each gets a reset mail). */
  registered: string[];
  resetRequested: string[];
  /** Every answer as `status method` → count, e.g. `201 register`. */
  answers: Record<string, number>;
  slowestMs: number;
}

/**
 * Registers `count` new accounts and asks a password reset for each, `parallel` requests at a time,
 * spread over `apis` round-robin. `onProgress` runs after each wave (a test injects its fault there).
 */
export async function burst(
  apis: ApiClient | ApiClient[],
  count: number,
  { parallel = 4, label = 'burst', onProgress }: { parallel?: number; label?: string; onProgress?: (done: number) => Promise<void> | void } = {},
): Promise<Burst> {
  const clients = Array.isArray(apis) ? apis : [apis];
  const result: Burst = { registered: [], resetRequested: [], answers: {}, slowestMs: 0 };
  let turn = 0;
  const call = async (kind: string, path: string, body: unknown) => {
    const api = clients[turn++ % clients.length];
    const started = Date.now();
    const answer = await api.post(path, body);
    result.slowestMs = Math.max(result.slowestMs, Date.now() - started);
    const key = `${answer.status} ${kind}`;
    result.answers[key] = (result.answers[key] ?? 0) + 1;
    return answer.status;
  };
  for (let done = 0; done < count; done += parallel) {
    const wave = Array.from({ length: Math.min(parallel, count - done) }, () => uniqueEmail(label));
    await Promise.all(
      wave.map(async (email) => {
        if ((await call('register', '/auth/register', { email, password: strongPassword() })) === 201) result.registered.push(email);
        if ((await call('forgot', '/auth/password/forgot', { email })) === 202) result.resetRequested.push(email);
      }),
    );
    await onProgress?.(done + wave.length);
  }
  return result;
}

/** Waits until no job of `queue` is waiting, running or scheduled for a retry. */
export async function waitForQueueIdle(queue: { getJobCounts(...types: string[]): Promise<Record<string, number>> }, timeoutMs: number): Promise<void> {
  await waitUntil(async () => {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).every((n) => n === 0);
  }, timeoutMs, 'the mail queue to be idle');
}

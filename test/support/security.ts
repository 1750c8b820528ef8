import type { ApiResponse } from './api-client';
import type { ReceivedMail, SmtpSink } from './smtp-sink';
import { linkIn, to, type Stack } from './stack';
import { strongPassword, uniqueEmail } from './unique';

/** Tokens a signed-in client holds. */
export interface Session {
  accessToken: string;
  refreshToken: string;
}

export interface Account {
  email: string;
  password: string;
  userId: string;
}

/**
 * Registers an account (and, with confirmation on, confirms it in the database so it can sign
 * in). Does not wait for any email.
 */
export async function createAccount(
  stack: Stack,
  { label = 'sec', name, confirmed = true }: { label?: string; name?: string; confirmed?: boolean } = {},
): Promise<Account> {
  const email = uniqueEmail(label);
  const password = strongPassword();
  const registered = await stack.api.post('/auth/register', { email, password, ...(name === undefined ? {} : { name }) });
  if (registered.status !== 201 && registered.status !== 202) {
    throw new Error(`register ${email}: ${registered.status} ${JSON.stringify(registered.body)}`);
  }
  if (confirmed) await stack.sql('update users set email_confirmed_at = now() where email_canonical = ?', [email]);
  const [row] = await stack.sql<{ id: string }>('select id from users where email_canonical = ?', [email]);
  return { email, password, userId: row.id };
}

export async function signIn(stack: Stack, email: string, password: string): Promise<Session> {
  const login = await stack.api.post('/auth/login', { email, password });
  if (login.status !== 200) throw new Error(`login ${email}: ${login.status} ${JSON.stringify(login.body)}`);
  return { accessToken: login.body.accessToken, refreshToken: login.body.refreshToken };
}

/** The next message to `email` that arrives after this call whose subject matches. */
export function nextMail(sink: SmtpSink, email: string, subject: RegExp, timeoutMs?: number): Promise<ReceivedMail> {
  const seen = sink.messages.length;
  return sink.waitFor((m) => to(email)(m) && subject.test(m.subject) && sink.messages.indexOf(m) >= seen, timeoutMs);
}

/** Asks for a reset link and returns the token it carries. */
export async function requestResetToken(stack: Stack, email: string): Promise<string> {
  const mail = nextMail(stack.sink, email, /reset/i);
  const forgot = await stack.api.post('/auth/password/forgot', { email });
  if (forgot.status !== 202) throw new Error(`forgot ${email}: ${forgot.status}`);
  return linkIn(await mail).token;
}

/** Asks for a fresh confirmation link and returns the token it carries. */
export async function requestConfirmationToken(stack: Stack, email: string): Promise<string> {
  const mail = nextMail(stack.sink, email, /confirm/i);
  const resend = await stack.api.post('/auth/email/resend', { email });
  if (resend.status !== 202) throw new Error(`resend ${email}: ${resend.status}`);
  return linkIn(await mail).token;
}

/** Asserts an RFC 9457 problem document with our stable code. */
export function expectProblem(response: ApiResponse, status: number, code?: string): void {
  const context = `${response.status} ${JSON.stringify(response.body)}`;
  expect({ status: response.status, context }).toEqual({ status, context });
  expect(response.headers.get('content-type') ?? '').toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), code: expect.any(String) });
  if (code !== undefined) expect(response.body.code).toBe(code);
}

/** Headers that legitimately differ between two identical answers. */
const VOLATILE_HEADERS = new Set(['date', 'x-request-id', 'request-id', 'x-correlation-id', 'traceparent']);

/** What an observer can compare between two answers: status, body, and the stable headers. */
export function observable(response: ApiResponse): { status: number; body: unknown; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!VOLATILE_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
  });
  return { status: response.status, body: response.body, headers };
}

/** Things an error body must never contain: stack frames, SQL, file paths, driver names. */
export const INTERNALS = [
  /\bat [\w.<>]+ \(/, // stack frame
  /\n\s+at /,
  /\.(ts|js):\d+/,
  /\/(work|home|usr|app|src|node_modules)\//,
  /node_modules/,
  /\b(select|insert into|update|delete from)\b.+\b(from|values|set|where)\b/i,
  /\b(DriverException|QueryFailedError|TypeError|RangeError|SyntaxError|ReferenceError)\b/,
  /postgres|mikro-?orm|knex|ioredis|bullmq/i,
  /argon2|\$argon2id\$/i,
];

export function expectNoInternals(text: string): void {
  for (const pattern of INTERNALS) {
    expect({ pattern: String(pattern), leaked: pattern.test(text), text: text.slice(0, 500) }).toMatchObject({ leaked: false });
  }
}

/**
 * Every message the sink received went to exactly one recipient, whose address is the `To`, with
 * no Cc or Bcc, and nothing in its envelope or headers mentions any of `forbidden`.
 */
export function expectSingleRecipientMail(messages: ReceivedMail[], forbidden: string[]): void {
  for (const mail of messages) {
    const headerSection = mail.raw.split(/\r?\n\r?\n/)[0].toLowerCase();
    const summary = { subject: mail.subject, to: mail.toAll, envelope: mail.envelope.to };
    expect({ ...summary, envelopeCount: mail.envelope.to.length, toCount: mail.toAll.length }).toMatchObject({
      envelopeCount: 1,
      toCount: 1,
    });
    expect(mail.envelope.to[0].toLowerCase()).toBe(mail.to.toLowerCase());
    expect({ ...summary, cc: mail.headers.get('cc'), bcc: mail.headers.get('bcc') }).toMatchObject({ cc: undefined, bcc: undefined });
    for (const needle of forbidden) {
      expect({ ...summary, needle, inHeaders: headerSection.includes(needle.toLowerCase()) }).toMatchObject({ inHeaders: false });
      expect({ ...summary, needle, inEnvelope: mail.envelope.to.some((a) => a.toLowerCase().includes(needle.toLowerCase())) }).toMatchObject({
        inEnvelope: false,
      });
    }
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Median response times of two calls that must look alike (a known and an unknown address, a taken
 * and a free one): warm-ups first, then `pairs` rounds in random order, with every status seen.
 */
export async function pairedMedians(warmups: number, pairs: number, known: () => Promise<ApiResponse>, unknown: () => Promise<ApiResponse>) {
  const time = async (call: () => Promise<ApiResponse>, statuses: Set<number>) => {
    const started = performance.now();
    const response = await call();
    const elapsed = performance.now() - started;
    statuses.add(response.status);
    return elapsed;
  };
  const knownStatuses = new Set<number>();
  const unknownStatuses = new Set<number>();
  for (let i = 0; i < warmups; i++) {
    await time(known, knownStatuses);
    await time(unknown, unknownStatuses);
  }
  const knownTimes: number[] = [];
  const unknownTimes: number[] = [];
  for (let i = 0; i < pairs; i++) {
    if (Math.random() < 0.5) {
      knownTimes.push(await time(known, knownStatuses));
      unknownTimes.push(await time(unknown, unknownStatuses));
    } else {
      unknownTimes.push(await time(unknown, unknownStatuses));
      knownTimes.push(await time(known, knownStatuses));
    }
  }
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  return {
    known: median(knownTimes),
    unknown: median(unknownTimes),
    statuses: { known: [...knownStatuses], unknown: [...unknownStatuses] },
  };
}

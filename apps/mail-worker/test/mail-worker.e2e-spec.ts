import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue, type JobsOptions } from 'bullmq';
import { ConfigError } from '@accounts/config';
import { MAIL_QUEUE, PayloadSealer, type MailEventName, type MailEventPayloads } from '@accounts/mail/contract';
import { redisOptions, RedisUnavailableError } from '@accounts/redis';
import { pollUntil } from '../../../test/support/polling';
import { SmtpSink, type ReceivedMail } from '../../../test/support/smtp-sink';
import { TEST_REDIS_URL } from '../../../test/support/test-env';
import { createMailWorker } from '../src/main';

const PAYLOAD_KEY = randomBytes(32);
const sealer = new PayloadSealer({ key: PAYLOAD_KEY });

/** What the API's queue sets as defaultJobOptions, with a backoff short enough for a test. */
const JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 100 },
  removeOnComplete: true,
  removeOnFail: false,
};

const savedEnv = { ...process.env };

/** Environment for one worker instance; every instance gets its own queue prefix. */
function useWorkerEnv(vars: Record<string, string | undefined>): string {
  const prefix = `test-worker-${randomUUID().slice(0, 8)}`;
  process.env = {
    ...savedEnv,
    QUEUE_PREFIX: prefix,
    WORKER_PORT: '0',
    PAYLOAD_KEY: PAYLOAD_KEY.toString('base64'),
    APP_NAME: 'Accounts',
    MAIL_ATTEMPTS: '3',
    // This file provokes failed jobs on purpose; their error lines would only be noise.
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
  };
  for (const [key, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  return prefix;
}

function openQueue(prefix: string): Queue {
  return new Queue(MAIL_QUEUE, { connection: redisOptions(TEST_REDIS_URL, 'producer'), prefix });
}

async function closeQueue(queue: Queue): Promise<void> {
  await queue.obliterate({ force: true });
  await queue.close();
}

function address(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}@example.test`;
}

function recipient(email: string, name: string | null = null) {
  return { v: 1 as const, userId: randomUUID(), email, name };
}

/** Adds an event as the outbox relay would: job id = event id, tokens sealed for that event. */
async function publish<N extends MailEventName>(
  queue: Queue,
  name: N,
  build: (eventId: string) => MailEventPayloads[N],
  options: JobsOptions = JOB_OPTIONS,
): Promise<string> {
  const eventId = randomUUID();
  await queue.add(name, build(eventId), { ...options, jobId: eventId });
  return eventId;
}

/** The one link to `path` in both parts; its host must be APP_URL's. */
function linkTo(mail: ReceivedMail, path: string): URL {
  const fromHtml = [...mail.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
  const fromText = mail.text.match(/https?:\/\/\S+/g) ?? [];
  const links = [...new Set([...fromHtml, ...fromText])].map((href) => new URL(href)).filter((url) => url.pathname === path);
  expect(links.map((url) => url.href)).toHaveLength(1);
  expect(fromText.some((href) => new URL(href).pathname === path)).toBe(true);
  expect(links[0].origin).toBe('http://accounts.test');
  return links[0];
}

describe('mail worker over SMTP', () => {
  let sink: SmtpSink;
  let app: NestFastifyApplication;
  let queue: Queue;
  let baseUrl: string;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    const prefix = useWorkerEnv({ SMTP_URL: sink.url });
    app = await createMailWorker();
    queue = openQueue(prefix);
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await closeQueue(queue);
    await sink?.stop();
    process.env = savedEnv;
  });

  it('sends a confirmation link for user.registered with a token, sealed for that event only', async () => {
    const to = address('registered');
    const token = randomBytes(32).toString('base64url');
    const who = recipient(to, 'Ann');
    const id = await publish(queue, 'user.registered', (eventId) => ({
      ...who,
      confirmationToken: sealer.seal(token, { eventId, ...who }),
    }));

    const mail = await sink.waitFor((m) => m.to === to);
    expect(mail.subject).toBe('Confirm your email address for Accounts');
    expect(mail.toAll).toEqual([to]);
    expect(mail.envelope.to).toEqual([to]);
    expect(mail.from).toBe('no-reply@accounts.test');
    expect(mail.messageId).toBe(`<${id}@accounts.test>`);
    expect(mail.html).toContain('Hi Ann,');
    expect(mail.text).toContain('Hi Ann,');
    expect(mail.text).toContain('This link expires soon');
    expect(linkTo(mail, '/confirm-email').searchParams.get('token')).toBe(token);
  });

  it('sends a welcome without any confirmation link when user.registered has no token', async () => {
    const to = address('welcome');
    await publish(queue, 'user.registered', () => ({ ...recipient(to), confirmationToken: null }));

    const mail = await sink.waitFor((m) => m.to === to);
    expect(mail.subject).toBe('Welcome to Accounts');
    expect(mail.text).toMatch(/^Hello,/);
    expect(mail.html + mail.text).not.toContain('confirm-email');
    expect(linkTo(mail, '/login').search).toBe('');
  });

  it('tells the owner of a taken address about the attempt and links to password recovery', async () => {
    const to = address('attempted');
    await publish(queue, 'user.registration-attempted', () => recipient(to, 'Bo'));

    const mail = await sink.waitFor((m) => m.to === to);
    expect(mail.subject).toBe('Someone tried to sign up for Accounts with your address');
    expect(mail.text).toContain('If it was you, sign in');
    expect(linkTo(mail, '/forgot-password').search).toBe('');
    expect(linkTo(mail, '/login').search).toBe('');
  });

  it('sends a fresh confirmation link for email.confirmation-requested', async () => {
    const to = address('resend');
    const token = randomBytes(32).toString('base64url');
    const who = recipient(to);
    await publish(queue, 'email.confirmation-requested', (eventId) => ({
      ...who,
      confirmationToken: sealer.seal(token, { eventId, ...who }),
    }));

    const mail = await sink.waitFor((m) => m.to === to);
    expect(mail.subject).toBe('Confirm your email address for Accounts');
    expect(linkTo(mail, '/confirm-email').searchParams.get('token')).toBe(token);
    // A job without `choosePassword` (a repeat registration, the signed-in resend, or one queued
    // before the field existed) carries the password of its request, and says so.
    expect(mail.text).toContain('Confirming activates the password given when this link was requested');
    expect(mail.text).not.toMatch(/choose a new password/i);
  });

  it('says that confirming asks for a new password when the link carries none (an anonymous resend)', async () => {
    const to = address('resend-choose');
    const token = randomBytes(32).toString('base64url');
    const who = recipient(to);
    await publish(queue, 'email.confirmation-requested', (eventId) => ({
      ...who,
      confirmationToken: sealer.seal(token, { eventId, ...who }),
      choosePassword: true,
    }));

    const mail = await sink.waitFor((m) => m.to === to);
    expect(linkTo(mail, '/confirm-email').searchParams.get('token')).toBe(token);
    for (const part of [mail.text, mail.html]) {
      expect(part).toContain('Confirming asks you to choose a new password for the account.');
      expect(part).not.toContain('Confirming activates the password');
    }
  });

  it('sends a reset link whose token survives URL encoding', async () => {
    const to = address('reset');
    const token = 'a+b/c=d&e f';
    const who = recipient(to);
    await publish(queue, 'password.reset-requested', (eventId) => ({ ...who, resetToken: sealer.seal(token, { eventId, ...who }) }));

    const mail = await sink.waitFor((m) => m.to === to);
    expect(mail.subject).toBe('Reset your Accounts password');
    expect(mail.text).toContain('your password stays as it is');
    expect(linkTo(mail, '/reset-password').searchParams.get('token')).toBe(token);
  });

  it('confirms a password change and says what to do if it was not the owner, for reset and change', async () => {
    const [viaReset, viaChange] = [address('changed-reset'), address('changed-change')];
    await publish(queue, 'password.changed', () => ({ ...recipient(viaReset), via: 'reset' }));
    await publish(queue, 'password.changed', () => ({ ...recipient(viaChange), via: 'change' }));

    const [reset, change] = await Promise.all([sink.waitFor((m) => m.to === viaReset), sink.waitFor((m) => m.to === viaChange)]);
    for (const mail of [reset, change]) {
      expect(mail.subject).toBe('Your Accounts password was changed');
      expect(mail.text).toContain('If it was not you');
      expect(linkTo(mail, '/forgot-password').search).toBe('');
    }
    expect(reset.text).toContain('reset with a link sent to this address');
    expect(change.text).toContain('changed from the account settings');
  });

  it('escapes user data in the HTML part and keeps it verbatim in the text part', async () => {
    const to = address('escape');
    const name = '<script>alert(1)</script> & "Eve"';
    await publish(queue, 'user.registration-attempted', () => recipient(to, name));

    const mail = await sink.waitFor((m) => m.to === to);
    expect(mail.html).not.toMatch(/<script/i);
    expect(mail.html).toContain('Hi &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Eve&quot;,');
    expect(mail.text).toContain(`Hi ${name},`);
  });

  it('removes a job from Redis once its mail is sent', async () => {
    const to = address('removed');
    const id = await publish(queue, 'password.changed', () => ({ ...recipient(to), via: 'change' }));

    await sink.waitFor((m) => m.to === to);
    await pollUntil(() => queue.getJob(id), (job) => job === undefined);
  });

  it('retries while the SMTP server is down and delivers once when it is back', async () => {
    const to = address('outage');
    await sink.stop();
    try {
      const id = await publish(queue, 'password.changed', () => ({ ...recipient(to), via: 'reset' }));
      await pollUntil(() => queue.getJob(id), (job) => (job?.attemptsMade ?? 0) >= 1);
    } finally {
      await sink.restart();
    }

    await sink.waitFor((m) => m.to === to);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sink.messages.filter((m) => m.to === to)).toHaveLength(1);
  });

  it('keeps a permanently rejected mail as failed without retrying, and goes on with later mail', async () => {
    const [rejected, later] = [address('rejected'), address('after-rejected')];
    sink.rejectRecipient(rejected, 550);
    const id = await publish(queue, 'password.changed', () => ({ ...recipient(rejected), via: 'change' }));
    await publish(queue, 'password.changed', () => ({ ...recipient(later), via: 'change' }));

    await sink.waitFor((m) => m.to === later);
    const job = await pollUntil(() => queue.getJob(id), (j) => j?.finishedOn !== undefined);
    expect(await job!.getState()).toBe('failed');
    expect(job!.attemptsMade).toBe(1);
    expect(job!.failedReason).toContain('550');
  });

  it('fails an unknown event at once instead of retrying it', async () => {
    const id = randomUUID();
    await queue.add('user.unknown-event', recipient(address('unknown')), { ...JOB_OPTIONS, jobId: id });

    const job = await pollUntil(() => queue.getJob(id), (j) => j?.finishedOn !== undefined);
    expect(await job!.getState()).toBe('failed');
    expect(job!.attemptsMade).toBe(1);
  });

  it('answers liveness and readiness on WORKER_PORT, and sets no rate cap when none is configured', async () => {
    const live = await fetch(`${baseUrl}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await queue.getGlobalRateLimit()).toBeNull();
  });
});

describe('mail worker without SMTP_URL', () => {
  let outbox: string;
  let app: NestFastifyApplication;
  let queue: Queue;

  beforeAll(async () => {
    outbox = await mkdtemp(join(tmpdir(), 'mail-outbox-'));
    const prefix = useWorkerEnv({ SMTP_URL: undefined, MAIL_OUTBOX_DIR: join(outbox, 'nested'), MAIL_RATE_PER_SECOND: '50' });
    app = await createMailWorker();
    queue = openQueue(prefix);
  });

  afterAll(async () => {
    await app?.close();
    await closeQueue(queue);
    await rm(outbox, { recursive: true, force: true });
    process.env = savedEnv;
  });

  it('writes each message as an .eml file to MAIL_OUTBOX_DIR, creating the directory', async () => {
    const to = address('outbox');
    const id = await publish(queue, 'user.registered', () => ({ ...recipient(to), confirmationToken: null }));

    const dir = join(outbox, 'nested');
    const files = await pollUntil(
      () => readdir(dir).catch(() => [] as string[]),
      (names) => names.some((file) => file.endsWith(`-${id}.eml`)),
    );
    const eml = await readFile(join(dir, files.find((file) => file.endsWith(`-${id}.eml`))!), 'utf8');
    expect(eml).toContain(`To: ${to}`);
    expect(eml).toContain('Subject: Welcome to Accounts');
    expect(eml).toContain(`Message-ID: <${id}@accounts.test>`);
  });

  it('stores MAIL_RATE_PER_SECOND as the global rate cap shared by all workers', async () => {
    expect(await queue.getGlobalRateLimit()).toEqual({ max: 50, duration: 1_000 });
  });
});

describe('mail worker shutdown', () => {
  it('finishes the job in flight before it closes', async () => {
    const sink = await SmtpSink.start({ latencyMs: 1_000 });
    const prefix = useWorkerEnv({ SMTP_URL: sink.url });
    const app = await createMailWorker();
    const queue = openQueue(prefix);
    try {
      const to = address('shutdown');
      const id = await publish(queue, 'password.changed', () => ({ ...recipient(to), via: 'change' }));
      // The sink holds its reply for a second after receiving the message: the job is in flight.
      await sink.waitFor((m) => m.to === to);

      await app.close();
      expect(await queue.getJob(id)).toBeUndefined();
    } finally {
      await closeQueue(queue);
      await sink.stop();
      process.env = savedEnv;
    }
  });
});

describe('mail worker start-up', () => {
  afterEach(() => {
    process.env = savedEnv;
  });

  it('refuses to start with an invalid PAYLOAD_KEY and names the variable', async () => {
    useWorkerEnv({ PAYLOAD_KEY: 'too-short' });
    const error = await createMailWorker().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^PAYLOAD_KEY must be 32 bytes/);
  });

  it('refuses to start when Redis is unreachable, naming the URL without its password', async () => {
    useWorkerEnv({ REDIS_URL: 'redis://:hunter2@127.0.0.1:1' });
    const error = await createMailWorker().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    const { message } = error as Error;
    expect(message).toContain('redis://:***@127.0.0.1:1');
    expect(message).toContain('docker compose up -d redis');
    expect(message).not.toContain('hunter2');
  });
});

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createMailWorker } from '../../apps/mail-worker/src/main';
import { baseUrlOf } from '../support/ops';
import { waitUntil } from '../support/polling';
import { rawRequest } from '../support/raw-http';
import { SmtpSink } from '../support/smtp-sink';
import { startStack, type Stack } from '../support/stack';
import { TcpProxy } from '../support/tcp-proxy';
import { TEST_DATABASE_URL } from '../support/test-env';

describe('ops: API health', () => {
  let proxy: TcpProxy;
  let stack: Stack;
  beforeAll(async () => {
    let throughProxy: string;
    ({ proxy, proxiedUrl: throughProxy } = await TcpProxy.inFrontOf(TEST_DATABASE_URL));
    // PostgreSQL is cut on purpose below; the warnings that follow are expected.
    stack = await startStack({ withoutWorker: true, env: { DATABASE_URL: throughProxy, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal' } });
  });
  afterAll(async () => {
    await proxy?.restore();
    await stack?.close();
    await proxy?.close();
  });

  it('answers liveness and readiness with each check, never cached', async () => {
    const live = await rawRequest(stack.api.baseUrl, 'GET', '/health/live');
    expect({ status: live.status, body: live.json }).toEqual({ status: 200, body: { status: 'ok' } });
    expect(live.headers['cache-control']).toBe('no-store');

    const ready = await rawRequest(stack.api.baseUrl, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.headers['cache-control']).toBe('no-store');
    expect(ready.json).toEqual({
      status: 'ok',
      info: { database: { status: 'up' }, redis: { status: 'up' } },
      error: {},
      details: { database: { status: 'up' }, redis: { status: 'up' } },
      checks: { database: 'up', redis: 'up' },
    });
  });

  it('turns readiness to 503 while PostgreSQL is away, keeps liveness at 200, and recovers by itself', async () => {
    await proxy.refuse();
    const started = Date.now();
    const ready = await rawRequest(stack.api.baseUrl, 'GET', '/health/ready');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ status: 'error', error: { database: { status: 'down' } }, checks: { database: 'down', redis: 'up' } });
    expect((await rawRequest(stack.api.baseUrl, 'GET', '/health/live')).status).toBe(200);

    await proxy.restore();
    await waitUntil(async () => (await rawRequest(stack.api.baseUrl, 'GET', '/health/ready')).status === 200, 15_000, 'ready again');
  });
});

describe('ops: worker health', () => {
  const saved = { ...process.env };
  let sink: SmtpSink;
  const workers: NestFastifyApplication[] = [];

  async function startWorker(env: Record<string, string | undefined>): Promise<string> {
    process.env = { ...saved, QUEUE_PREFIX: `test-health-${Date.now()}`, WORKER_PORT: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal' };
    for (const [key, value] of Object.entries(env)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    try {
      const worker = await createMailWorker();
      workers.push(worker);
      return baseUrlOf(worker);
    } finally {
      process.env = { ...saved };
    }
  }
  const ready = async (baseUrl: string) => {
    const answer = await fetch(`${baseUrl}/health/ready`);
    return { status: answer.status, body: (await answer.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    for (const worker of workers) await worker.close();
    await sink?.stop();
  });

  it('is ready when Redis answers and the SMTP server accepts a connection', async () => {
    const baseUrl = await startWorker({ SMTP_URL: sink.url });
    expect((await fetch(`${baseUrl}/health/live`)).status).toBe(200);
    const answer = await ready(baseUrl);
    expect(answer).toEqual({
      status: 200,
      body: expect.objectContaining({ status: 'ok', checks: { redis: 'up', smtp: 'up' }, info: { redis: { status: 'up' }, smtp: { status: 'up', configured: true } } }),
    });
  });

  it('is not ready while the SMTP server cannot be reached, and ready once it can', async () => {
    await sink.stop();
    const baseUrl = await startWorker({ SMTP_URL: sink.url });
    const down = await ready(baseUrl);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'error', checks: { redis: 'up', smtp: 'down' }, error: { smtp: { status: 'down', message: expect.any(String) } } });
    await sink.restart();
    await waitUntil(async () => (await ready(baseUrl)).status === 200, 10_000, 'SMTP reachable again');
  });

  it('reports SMTP as not configured, and stays ready, when it writes .eml files', async () => {
    const baseUrl = await startWorker({ SMTP_URL: undefined });
    const answer = await ready(baseUrl);
    expect(answer.status).toBe(200);
    expect(answer.body.checks).toEqual({ redis: 'up', smtp: 'not_configured' });
    expect(answer.body.info.smtp).toMatchObject({ status: 'up', configured: false });
  });
});

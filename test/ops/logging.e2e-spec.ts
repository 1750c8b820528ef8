import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { StdoutCapture } from '../support/ops';
import { waitUntil } from '../support/polling';
import { rawRequest } from '../support/raw-http';
import { startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Structured JSON logs: one object per line on stdout, the request id on a request's lines, the event on a job's. */
describe('ops: request ids and structured logs', () => {
  let stack: Stack;
  let capture: StdoutCapture;

  beforeAll(async () => {
    capture = new StdoutCapture();
    stack = await startStack({ env: { LOG_LEVEL: 'info' } });
  });
  afterAll(async () => {
    await stack?.close();
    capture?.stop();
  });

  it('echoes a sane X-Request-Id and replaces anything else with a UUID', async () => {
    const kept = await rawRequest(stack.api.baseUrl, 'GET', '/health/live', { headers: { 'x-request-id': 'lb-2024.01_abc-DEF' } });
    expect(kept.headers['x-request-id']).toBe('lb-2024.01_abc-DEF');
    for (const given of ['x'.repeat(65), 'has spaces in it', 'quote"d', '']) {
      const answer = await rawRequest(stack.api.baseUrl, 'GET', '/health/live', { headers: { 'x-request-id': given } });
      expect({ given, id: answer.headers['x-request-id'] }).toEqual({ given, id: expect.stringMatching(UUID) });
    }
    const first = await rawRequest(stack.api.baseUrl, 'GET', '/health/live');
    const second = await rawRequest(stack.api.baseUrl, 'GET', '/health/live');
    expect(first.headers['x-request-id']).toMatch(UUID);
    expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);
    // Refusals by a hook carry one too.
    const refused = await rawRequest(stack.api.baseUrl, 'POST', '/api/v1/auth/login', { headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(refused.status).toBe(415);
    expect(refused.headers['x-request-id']).toMatch(UUID);
  });

  it('puts the request id on every line of a request, security events as fields, and no credentials', async () => {
    const requestId = `login-${Date.now()}`;
    const email = uniqueEmail('logging');
    const answer = await rawRequest(stack.api.baseUrl, 'POST', '/api/v1/auth/login', {
      headers: {
        'content-type': 'application/json',
        'x-request-id': requestId,
        authorization: 'Bearer sensitive-authorization-value',
        cookie: 'session=sensitive-cookie-value',
      },
      body: JSON.stringify({ email, password: 'sensitive-password-value' }),
    });
    expect(answer.status).toBe(401);
    expect(answer.headers['x-request-id']).toBe(requestId);

    let lines: Array<Record<string, unknown>> = [];
    await waitUntil(() => {
      lines = capture.lines().filter((line) => line.requestId === requestId);
      return lines.some((line) => line.res !== undefined);
    }, 5_000, 'the request line');
    const security = lines.find((line) => line.event === 'auth.signin.failed');
    expect(security).toMatchObject({ level: 'warn', context: 'Security', app: 'api', knownAccount: false, email: expect.stringMatching(/^l\*\*\*@example\.com$/) });
    const completed = lines.find((line) => line.res !== undefined)!;
    expect(completed).toMatchObject({
      level: 'info',
      msg: expect.stringMatching(/^POST \/api\/v1\/auth\/login 401 in \d+ ms$/),
      req: { method: 'POST', url: '/api/v1/auth/login' },
      res: { statusCode: 401 },
      responseTime: expect.any(Number),
    });
    expect(Object.keys(completed.req as object).sort()).toEqual(['ip', 'method', 'url']);
    for (const secret of ['sensitive-authorization-value', 'sensitive-cookie-value', 'sensitive-password-value', email]) {
      expect({ secret, logged: capture.text.includes(secret) }).toEqual({ secret, logged: false });
    }
  });

  it('logs paths without their query string, and no line for probes and scrapes', async () => {
    const token = `QueryToken${Date.now()}abcdefghijklmnopqrstuvwxyz`;
    const requestId = `page-${Date.now()}`;
    await rawRequest(stack.api.baseUrl, 'GET', `/reset-password?token=${token}`, { headers: { 'x-request-id': requestId } });
    const probeId = `probe-${Date.now()}`;
    await rawRequest(stack.api.baseUrl, 'GET', '/health/ready', { headers: { 'x-request-id': probeId } });
    await rawRequest(stack.opsUrl, 'GET', '/metrics', { headers: { 'x-request-id': probeId } });

    await waitUntil(() => capture.lines().some((line) => line.requestId === requestId && line.res !== undefined), 5_000, 'the page line');
    const page = capture.lines().find((line) => line.requestId === requestId && line.res !== undefined)!;
    expect(page.req).toMatchObject({ method: 'GET', url: '/reset-password' });
    expect(page.msg).toMatch(/^GET \/reset-password \d{3} in/);
    expect(capture.text).not.toContain(token);
    expect(capture.lines().filter((line) => line.requestId === probeId)).toEqual([]);
  });

  it('writes a line for a request whose client went away before the answer', async () => {
    const requestId = `abandoned-${Date.now()}`;
    const { port } = new URL(stack.api.baseUrl);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    // Half a body, then gone: the API never answers this one.
    socket.write(`POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\nX-Request-Id: ${requestId}\r\n\r\n{"email":`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    await waitUntil(() => capture.lines().some((line) => line.requestId === requestId), 5_000, 'the abandoned request line');
    const line = capture.lines().find((candidate) => candidate.requestId === requestId)!;
    expect(line).toMatchObject({ level: 'info', msg: expect.stringMatching(/^POST \/api\/v1\/auth\/login abandoned by the client after \d+ ms$/), req: { method: 'POST', url: '/api/v1/auth/login' } });
  });

  it("logs what the worker says while it answers a probe (a failed readiness check)", async () => {
    const broken = await startStack({ withoutWorker: true, env: { LOG_LEVEL: 'info' } });
    try {
      await broken.startWorker({ SMTP_URL: 'smtp://127.0.0.1:1' });
      const { port } = broken.worker!.getHttpServer().address() as AddressInfo;
      const before = capture.lines().length;
      expect((await rawRequest(`http://127.0.0.1:${port}`, 'GET', '/health/ready')).status).toBe(503);
      await waitUntil(() => capture.lines().slice(before).some((line) => line.app === 'mail-worker' && line.level === 'error'), 5_000, "the worker's line");
      const failed = capture.lines().slice(before).find((line) => line.app === 'mail-worker' && line.level === 'error')!;
      expect(failed).toMatchObject({ msg: expect.stringMatching(/Health Check has failed/), requestId: expect.any(String) });
    } finally {
      await broken.close();
    }
  });

  it("starts without Nest's route table outside development, keeping its other start-up lines", async () => {
    const startup = capture.lines().filter((line) => line.app === 'api');
    expect(startup.filter((line) => ['RoutesResolver', 'RouterExplorer'].includes(line.context as string))).toEqual([]);
    expect(startup).toContainEqual(expect.objectContaining({ context: 'NestApplication', msg: 'Nest application successfully started' }));
  });

  it("puts the event id and name on the worker's lines of a job", async () => {
    const email = uniqueEmail('logging-job');
    const delivered = stack.sink.waitFor(to(email), 15_000);
    expect((await stack.api.post('/auth/register', { email, password: strongPassword() })).status).toBe(201);
    await delivered;
    const [{ id }] = await stack.sql<{ id: string }>(`select id from outbox where payload->>'email' = ?`, [email]);
    await waitUntil(() => capture.lines().some((line) => line.eventId === id), 5_000, 'the job line');
    const sent = capture.lines().find((line) => line.eventId === id)!;
    expect(sent).toMatchObject({ app: 'mail-worker', event: 'user.registered', context: 'MailProcessor', msg: expect.stringMatching(/^Sent user\.registered/) });
  });
});

import { baseUrlOf, metricValue } from '../support/ops';
import { waitUntil } from '../support/polling';
import { PrivateRedis } from '../support/private-redis';
import { startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/** Prometheus metrics of both processes (the API's on its operators' port), after real traffic: sign-ins, throttling, sent and failed mail. */
describe('ops: metrics', () => {
  let stack: Stack;
  const scrapeApi = async () => {
    const answer = await fetch(`${stack.opsUrl}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain/);
    return answer.text();
  };
  const scrapeWorker = async () => {
    const answer = await fetch(`${baseUrlOf(stack.worker!)}/metrics`);
    expect(answer.status).toBe(200);
    return answer.text();
  };

  beforeAll(async () => {
    stack = await startStack({
      env: {
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_LOGIN_PER_ACCOUNT: '2/15m',
        RATE_LIMIT_AUTH_PER_IP: '1000/15m',
        MAIL_ATTEMPTS: '2',
        // Failures are provoked on purpose; their log lines would only be noise.
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
      },
    });
  });
  afterAll(() => stack?.close());

  it('counts requests by route pattern and status, sign-ins by outcome and throttles by limit', async () => {
    const email = uniqueEmail('metrics');
    const password = strongPassword();
    expect((await stack.api.post('/auth/register', { email, password })).status).toBe(201);
    const signedIn = await stack.api.post('/auth/login', { email, password });
    expect(signedIn.status).toBe(200);
    // Two wrong passwords use up the per-account limit; the next sign-in is throttled.
    for (let i = 0; i < 2; i++) expect((await stack.api.post('/auth/login', { email, password: strongPassword() })).status).toBe(401);
    expect((await stack.api.post('/auth/login', { email, password })).status).toBe(429);
    // Two different session ids, one route pattern.
    for (const id of ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002']) {
      expect((await stack.api.delete(`/auth/sessions/${id}`, signedIn.body.accessToken)).status).toBe(404);
    }

    const metrics = await scrapeApi();
    expect(metricValue(metrics, 'http_requests_total', { method: 'POST', route: '/api/v1/auth/login', status: '200' })).toBe(1);
    expect(metricValue(metrics, 'http_requests_total', { method: 'POST', route: '/api/v1/auth/login', status: '401' })).toBe(2);
    expect(metricValue(metrics, 'http_requests_total', { method: 'POST', route: '/api/v1/auth/login', status: '429' })).toBe(1);
    expect(metricValue(metrics, 'http_requests_total', { method: 'DELETE', route: '/api/v1/auth/sessions/:id', status: '404' })).toBe(2);
    expect(metrics).not.toContain('00000000-0000-4000-8000-000000000001');
    expect(metricValue(metrics, 'http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/auth/register', status: '201' })).toBe(1);
    expect(metricValue(metrics, 'auth_sign_ins_total', { outcome: 'success' })).toBe(1);
    expect(metricValue(metrics, 'auth_sign_ins_total', { outcome: 'invalid_credentials' })).toBe(2);
    expect(metricValue(metrics, 'auth_sign_ins_total', { outcome: 'throttled' })).toBe(1);
    expect(metricValue(metrics, 'auth_sign_ins_total', { outcome: 'unconfirmed' })).toBe(0);
    expect(metricValue(metrics, 'auth_throttled_requests_total', { limit: 'loginPerAccount' })).toBe(1);
    expect(metricValue(metrics, 'auth_throttled_requests_total', { limit: 'authPerIp' })).toBe(0);
    expect(metricValue(metrics, 'outbox_backlog')).toEqual(expect.any(Number));
    expect(metricValue(metrics, 'outbox_relay_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(metricValue(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    // Unknown URLs are one series, whatever was asked for.
    await stack.api.request('GET', '/no/such/page-7f3a');
    expect(metricValue(await scrapeApi(), 'http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1);
  });

  it('counts sent, retried and failed jobs with their send latency by event, and the queue depth', async () => {
    const flaky = uniqueEmail('metrics-flaky');
    const refused = uniqueEmail('metrics-refused');
    stack.sink.rejectRecipient(flaky, 451);
    stack.sink.rejectRecipient(refused, 550);
    const before = await scrapeWorker();
    const completedBefore = metricValue(before, 'mail_jobs_completed_total', { event: 'user.registered' })!;

    expect((await stack.api.post('/auth/register', { email: flaky, password: strongPassword() })).status).toBe(201);
    expect((await stack.api.post('/auth/register', { email: refused, password: strongPassword() })).status).toBe(201);
    await waitUntil(async () => (metricValue(await scrapeWorker(), 'mail_jobs_retried_total', { event: 'user.registered' }) ?? 0) >= 1, 15_000, 'a retry');
    stack.sink.acceptRecipient(flaky);
    await stack.sink.waitFor(to(flaky), 15_000);
    await waitUntil(async () => (metricValue(await scrapeWorker(), 'mail_jobs_failed_total', { event: 'user.registered' }) ?? 0) >= 1, 15_000, 'a failure');

    let metrics = '';
    await waitUntil(async () => {
      metrics = await scrapeWorker();
      return metricValue(metrics, 'mail_jobs_completed_total', { event: 'user.registered' })! >= completedBefore + 1;
    }, 10_000, 'a completed job');
    expect(metricValue(metrics, 'mail_send_duration_seconds_count', { event: 'user.registered' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'mail_jobs_completed_total', { event: 'password.changed' })).toBe(0);
    expect(metricValue(metrics, 'mail_queue_jobs', { state: 'failed' })).toBeGreaterThanOrEqual(1);
    for (const state of ['waiting', 'delayed', 'active']) expect(metricValue(metrics, 'mail_queue_jobs', { state })).toEqual(expect.any(Number));
    expect(metricValue(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});

describe('ops: outbox metrics while Redis is away', () => {
  let redis: PrivateRedis;
  let stack: Stack;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    stack = await startStack({ env: { REDIS_URL: redis.url }, withoutWorker: true });
  });
  afterAll(async () => {
    await stack?.close();
    await redis?.stop();
  });

  it('shows the backlog and the age of its oldest event, and both fall once Redis is back', async () => {
    await redis.stop();
    const email = uniqueEmail('metrics-backlog');
    expect((await stack.api.post('/auth/register', { email, password: strongPassword() })).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const waiting = await (await fetch(`${stack.opsUrl}/metrics`)).text();
    expect(metricValue(waiting, 'outbox_backlog')).toBeGreaterThanOrEqual(1);
    expect(metricValue(waiting, 'outbox_relay_lag_seconds')).toBeGreaterThanOrEqual(1.4);

    await redis.start();
    await waitUntil(async () => {
      const [row] = await stack.sql<{ published: boolean }>(`select published_at is not null as published from outbox where payload->>'email' = ?`, [email]);
      return row.published;
    }, 15_000, 'the event published');
  });
});

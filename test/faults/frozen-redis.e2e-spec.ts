import type { ApiResponse } from '../support/api-client';
import { PrivateRedis } from '../support/private-redis';
import { startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';
import { eventIdsFor, waitForDeliveries } from './support/mail-audit';

/** Far above what a request costs with the limits' 500 ms Redis deadline; a hang never meets it. */
const ANSWER_DEADLINE_MS = 5_000;

/** The request's answer, or a failure naming it when it did not answer by the deadline. */
async function answered(label: string, request: Promise<ApiResponse>): Promise<ApiResponse> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not answer within ${ANSWER_DEADLINE_MS} ms`)), ANSWER_DEADLINE_MS);
  });
  try {
    return await Promise.race([request, hung]);
  } finally {
    clearTimeout(timer);
  }
}

describe('fault: Redis stops answering but keeps its connections open (SIGSTOP)', () => {
  let redis: PrivateRedis;
  let stack: Stack;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    stack = await startStack({ env: { REDIS_URL: redis.url, RATE_LIMIT_ENABLED: 'true' } });
  });
  afterAll(async () => {
    redis?.thaw();
    await stack?.close();
    await redis?.stop();
  });

  it('answers sign-up, sign-in, recovery, readiness and forms while Redis is frozen, and sends the mail once it thaws', async () => {
    const owner = uniqueEmail('frozen-owner');
    const password = strongPassword();
    expect((await stack.api.post('/auth/register', { email: owner, password })).status).toBe(201);
    await stack.sink.waitFor(to(owner));

    redis.freeze();
    const newcomer = uniqueEmail('frozen-new');
    expect((await answered('register', stack.api.post('/auth/register', { email: newcomer, password: strongPassword() }))).status).toBe(201);
    expect((await answered('login', stack.api.post('/auth/login', { email: owner, password }))).status).toBe(200);
    expect((await answered('wrong login', stack.api.post('/auth/login', { email: owner, password: strongPassword() }))).status).toBe(401);
    expect((await answered('forgot', stack.api.post('/auth/password/forgot', { email: owner }))).status).toBe(202);
    const ready = await answered('ready', stack.api.request('GET', '/health/ready'));
    expect({ status: ready.status, checks: ready.body.checks }).toEqual({ status: 200, checks: { database: 'up', redis: 'down' } });
    expect((await answered('form', stack.api.form('/forgot-password', { email: newcomer }))).status).toBe(200);
    const [{ n: held }] = await stack.sql<{ n: number }>(
      `select count(*)::int as n from outbox where published_at is null and payload->>'email' in (?, ?)`,
      [owner, newcomer],
    );
    expect(held).toBe(3); // welcome for the newcomer, two reset links

    redis.thaw();
    await waitForDeliveries(stack.sink, await eventIdsFor(stack.sql, [owner, newcomer]), 30_000);
    expect((await stack.api.post('/auth/login', { email: owner, password })).status).toBe(200);
  }, 60_000);
});

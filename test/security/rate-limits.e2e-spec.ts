import { randomBytes } from 'node:crypto';
import { PrivateRedis } from '../support/private-redis';
import { linkIn, startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/** A client address for X-Forwarded-For, so each test owns its per-IP buckets (TRUST_PROXY=1). */
function clientIp(): string {
  const bytes = randomBytes(3);
  return `198.51.${bytes[0]}.${bytes[1]}`;
}

function from(stack: Stack, ip: string) {
  return (path: string, body: unknown) =>
    stack.api.request('POST', `/api/v1${path}`, { body, headers: { 'x-forwarded-for': ip } });
}

describe('abuse limits', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: {
        RATE_LIMIT_ENABLED: 'true',
        TRUST_PROXY: '1',
        RATE_LIMIT_LOGIN_PER_ACCOUNT: '3/15m',
        RATE_LIMIT_MAIL_PER_ADDRESS: '2/1h',
        RATE_LIMIT_TOKEN_GUESS_PER_IP: '3/15m',
        RATE_LIMIT_AUTH_PER_IP: '1000/15m',
      },
    });
  });
  afterAll(() => stack.close());

  it('stops sign-in after repeated failures, even with the right password, then lets a reset lift it', async () => {
    const post = from(stack, clientIp());
    const email = uniqueEmail('brute');
    const password = strongPassword();
    await post('/auth/register', { email, password });
    for (let i = 0; i < 3; i++) expect((await post('/auth/login', { email, password: strongPassword() })).status).toBe(401);

    const locked = await post('/auth/login', { email, password });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('TOO_MANY_REQUESTS');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);

    // The owner recovers through the emailed link; the reset clears the count.
    expect((await post('/auth/password/forgot', { email })).status).toBe(202);
    const mail = await stack.sink.waitFor((m) => to(email)(m) && /reset/i.test(m.subject));
    const newPassword = strongPassword();
    expect((await post('/auth/password/reset', { token: linkIn(mail).token, password: newPassword })).status).toBe(204);
    expect((await post('/auth/login', { email, password: newPassword })).status).toBe(200);
  });

  it('throttles unknown addresses exactly like known ones', async () => {
    const post = from(stack, clientIp());
    const known = uniqueEmail('known');
    await post('/auth/register', { email: known, password: strongPassword() });
    const unknown = uniqueEmail('unknown');
    const answers = { known: [] as number[], unknown: [] as number[] };
    for (let i = 0; i < 4; i++) {
      answers.known.push((await post('/auth/login', { email: known, password: strongPassword() })).status);
      answers.unknown.push((await post('/auth/login', { email: unknown, password: strongPassword() })).status);
    }
    expect(answers.known).toEqual([401, 401, 401, 429]);
    expect(answers.unknown).toEqual(answers.known);
  });

  it('caps emails per address silently: the answer stays 202, the mail stops', async () => {
    const post = from(stack, clientIp());
    const email = uniqueEmail('flood');
    await post('/auth/register', { email, password: strongPassword() });
    await stack.sink.waitFor(to(email)); // welcome (counted as the first email)
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await post('/auth/password/forgot', { email }));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202]);
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);

    await stack.sink.waitFor((m) => to(email)(m) && /reset/i.test(m.subject));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(stack.sink.messages.filter((m) => to(email)(m) && /reset/i.test(m.subject))).toHaveLength(1);
  });

  it('refuses further token submissions from an IP that guessed wrong too often', async () => {
    const attacker = from(stack, clientIp());
    for (let i = 0; i < 3; i++) {
      const guess = await attacker('/auth/email/confirm', { token: randomBytes(32).toString('base64url') });
      expect(guess.status).toBe(400);
    }
    const blocked = await attacker('/auth/password/reset', { token: randomBytes(32).toString('base64url'), password: strongPassword() });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBeTruthy();

    const page = await stack.api.form('/confirm-email', { token: randomBytes(32).toString('base64url') }, { 'x-forwarded-for': '203.0.113.250' });
    expect(page.status).toBe(400); // another IP still has its guesses

    // Someone else's valid link keeps working from their own network.
    const owner = from(stack, clientIp());
    const email = uniqueEmail('owner');
    await owner('/auth/register', { email, password: strongPassword() });
    await owner('/auth/password/forgot', { email });
    const mail = await stack.sink.waitFor((m) => to(email)(m) && /reset/i.test(m.subject));
    expect((await owner('/auth/password/reset', { token: linkIn(mail).token, password: strongPassword() })).status).toBe(204);
  });
});

describe('per-IP limit and forwarded headers', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true, env: { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: '0', RATE_LIMIT_AUTH_PER_IP: '5/15m' } });
  });
  afterAll(() => stack.close());

  it('counts /auth/* per client IP and gives a spoofed X-Forwarded-For no fresh bucket', async () => {
    const statuses = [];
    for (let i = 0; i < 7; i++) {
      const answer = await stack.api.request('POST', '/api/v1/auth/password/forgot', {
        body: { email: uniqueEmail('ip') },
        headers: { 'x-forwarded-for': `192.0.2.${i}`, 'x-real-ip': `192.0.2.${i}` },
      });
      statuses.push(answer.status);
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429]);
    // Health and pages are not /auth/*.
    expect((await stack.api.request('GET', '/health/live')).status).toBe(200);
  });
});

describe('limits while Redis is down', () => {
  let redis: PrivateRedis;
  let stack: Stack;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    stack = await startStack({
      withoutWorker: true,
      env: { REDIS_URL: redis.url, RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_LOGIN_PER_ACCOUNT: '2/15m' },
    });
  });
  afterAll(async () => {
    await redis.start();
    await stack.close();
    await redis.stop();
  });

  it('falls back to a per-process count: sign-in keeps working and brute force stays capped', async () => {
    const email = uniqueEmail('fallback');
    const password = strongPassword();
    await stack.api.post('/auth/register', { email, password });
    await redis.stop();

    expect((await stack.api.post('/auth/login', { email, password })).status).toBe(200);
    const wrong = [];
    for (let i = 0; i < 3; i++) wrong.push((await stack.api.post('/auth/login', { email, password: strongPassword() })).status);
    expect(wrong).toEqual([401, 401, 429]);
  });
});

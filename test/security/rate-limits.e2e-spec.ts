import { randomBytes } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { MAIL_QUEUE } from '@accounts/mail/contract';
import { ApiClient } from '../support/api-client';
import { waitUntil } from '../support/polling';
import { PrivateRedis } from '../support/private-redis';
import { linkIn, startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/** A client address for X-Forwarded-For, so each test owns its per-IP buckets (TRUST_PROXY=1). */
function clientIp(): string {
  const bytes = randomBytes(3);
  return `198.51.${bytes[0]}.${bytes[1]}`;
}

/** An IPv6 /64 of the test's own, written `2001:db8:x:y` (append `::1` for an address in it). */
function ipv6Prefix(): string {
  const bytes = randomBytes(4);
  return `2001:db8:${bytes.readUInt16BE(0).toString(16)}:${bytes.readUInt16BE(2).toString(16)}`;
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

  it('evaluates at most the limit of parallel wrong sign-ins against one account; the rest get 429', async () => {
    const email = uniqueEmail('race');
    await from(stack, clientIp())('/auth/register', { email, password: strongPassword() });
    // Each attempt from its own IP, so only the per-account limit (3) stands in the way.
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => from(stack, clientIp())('/auth/login', { email, password: strongPassword() })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
  });

  it('judges at most the limit of parallel token guesses from one IP; the rest get 429', async () => {
    const attacker = from(stack, clientIp());
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => attacker('/auth/email/confirm', { token: randomBytes(32).toString('base64url') })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 400).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s !== 400 && s !== 429)).toEqual([]);
  });

  it('keeps the owner signing in from a network they are signed in from while a flood from elsewhere is throttled', async () => {
    const email = uniqueEmail('owner');
    const password = strongPassword();
    const home = ipv6Prefix();
    await from(stack, `${home}::10`)('/auth/register', { email, password });
    expect((await from(stack, `${home}::10`)('/auth/login', { email, password })).status).toBe(200);

    const attacker = from(stack, clientIp());
    const flood = [];
    for (let i = 0; i < 4; i++) flood.push((await attacker('/auth/login', { email, password: strongPassword() })).status);
    expect(flood).toEqual([401, 401, 401, 429]);

    // Another address of the owner's /64 is the same network.
    expect((await from(stack, `${home}::beef`)('/auth/login', { email, password })).status).toBe(200);
    const stranger = await from(stack, clientIp())('/auth/login', { email, password });
    expect(stranger.status).toBe(429);
    expect(stranger.body.code).toBe('TOO_MANY_REQUESTS');
  });

  it('counts the addresses of one IPv6 /64 in one per-IP bucket', async () => {
    const network = ipv6Prefix();
    for (const host of ['1', '2', 'abcd:1234']) {
      const guess = await from(stack, `${network}::${host}`)('/auth/email/confirm', { token: randomBytes(32).toString('base64url') });
      expect(guess.status).toBe(400);
    }
    const next = await from(stack, `${network}:ffff:ffff:ffff:ffff`)('/auth/email/confirm', { token: randomBytes(32).toString('base64url') });
    expect(next.status).toBe(429);
    const neighbour = await from(stack, `${ipv6Prefix()}::1`)('/auth/email/confirm', { token: randomBytes(32).toString('base64url') });
    expect(neighbour.status).toBe(400);
  });

  it('counts wrong current passwords against the account, over the API and on the account page', async () => {
    const ip = clientIp();
    const email = uniqueEmail('change');
    const password = strongPassword();
    await from(stack, ip)('/auth/register', { email, password });
    const { accessToken } = (await from(stack, ip)('/auth/login', { email, password })).body;
    const change = (currentPassword: string) =>
      stack.api.request('POST', '/api/v1/auth/password/change', {
        body: { currentPassword, newPassword: strongPassword() },
        token: accessToken,
        headers: { 'x-forwarded-for': clientIp() },
      });
    for (let i = 0; i < 3; i++) expect((await change(strongPassword())).body.code).toBe('INVALID_CREDENTIALS');
    const refused = await change(password);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('TOO_MANY_REQUESTS');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    // The account page (same account, same count) says so in words, next to the form.
    const browser = new ApiClient(stack.api.baseUrl);
    expect((await browser.form('/login', { email, password }, { 'x-forwarded-for': ip })).status).toBe(303);
    const newPassword = strongPassword();
    const page = await browser.form('/account/password', { currentPassword: password, newPassword, passwordConfirm: newPassword }, { 'x-forwarded-for': ip });
    expect(page.status).toBe(429);
    expect(Number(page.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(page.body).toMatch(/Too many attempts\. Try again in \d+ minutes?/);
    expect(page.body).not.toContain('TOO_MANY_REQUESTS');
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
    // The API's queue closes its Redis connection on shutdown, which BullMQ refuses while that
    // connection is still down: wait until it is back.
    await waitUntil(async () => (await stack.api.request('GET', '/health/ready')).body.checks.redis === 'up', 10_000, 'Redis back');
    await stack.apiApp.get<Queue>(getQueueToken(MAIL_QUEUE)).waitUntilReady();
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

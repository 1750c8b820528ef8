import { adminConfig, ConfigError } from '@accounts/config';
import { waitUntil } from '../support/polling';
import { rawRequest } from '../support/raw-http';
import { startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

const ADMIN = { username: 'ops', password: 'a long dashboard passphrase' };
const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

describe('ops: queue dashboard', () => {
  let stack: Stack;
  const get = (path: string, authorization?: string) => rawRequest(stack.opsUrl, 'GET', path, { headers: authorization ? { authorization } : {} });

  beforeAll(async () => {
    stack = await startStack({
      env: { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, MAIL_ATTEMPTS: '1', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal' },
    });
  });
  afterAll(() => stack?.close());

  it('refuses every path without the right credentials, with a Basic challenge', async () => {
    const wrong = [undefined, basic(ADMIN.username, 'not the password'), basic('someone', ADMIN.password), basic(ADMIN.username, ''), 'Bearer x', 'Basic !!!'];
    // Every wrong kind on one path, one of them on the others: fewer than the 10 failed attempts an IP may make.
    const cases = [
      ...wrong.map((authorization) => ['/admin/queues', authorization] as const),
      ...['/admin/queues/', '/admin/queues/queue/mail', '/admin/queues/api/queues'].flatMap((path) => [[path, undefined], [path, wrong[1]]] as const),
    ];
    for (const [path, authorization] of cases) {
      const answer = await get(path, authorization);
      expect({ path, authorization, status: answer.status }).toEqual({ path, authorization, status: 401 });
      expect(answer.headers['www-authenticate']).toMatch(/^Basic realm="Queue dashboard"/);
    }
    const retry = await rawRequest(stack.opsUrl, 'PUT', '/admin/queues/api/queues/mail/retry/failed');
    expect(retry.status).toBe(401);
  });

  it('shows the mail queue with the credentials, under a CSP of its own', async () => {
    const page = await get('/admin/queues', basic(ADMIN.username, ADMIN.password));
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toMatch(/script-src[^;]*unsafe/);
    const queues = await get('/admin/queues/api/queues', basic(ADMIN.username, ADMIN.password));
    expect(queues.status).toBe(200);
    expect(queues.json.queues.map((queue: { name: string }) => queue.name)).toEqual(['mail']);
    // Elsewhere the strict policy stays.
    expect((await get('/metrics')).headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('retries a failed job from the dashboard', async () => {
    const email = uniqueEmail('dashboard');
    stack.sink.rejectRecipient(email, 550);
    expect((await stack.api.post('/auth/register', { email, password: strongPassword() })).status).toBe(201);
    const [{ id }] = await stack.sql<{ id: string }>(`select id from outbox where payload->>'email' = ?`, [email]);
    const auth = basic(ADMIN.username, ADMIN.password);
    await waitUntil(async () => (await get(`/admin/queues/api/queues/mail/${id}`, auth)).json?.status === 'failed', 15_000, 'the job failed');

    stack.sink.acceptRecipient(email);
    const delivered = stack.sink.waitFor(to(email), 15_000);
    const retry = await rawRequest(stack.opsUrl, 'PUT', `/admin/queues/api/queues/mail/${id}/retry`, { headers: { authorization: auth } });
    expect(retry.status).toBe(204);
    expect((await delivered).messageId).toContain(id);
  });

  it('refuses, on the server, every action that would edit, add, promote or remove jobs', async () => {
    const email = uniqueEmail('dashboard-edit');
    stack.sink.rejectRecipient(email, 550);
    expect((await stack.api.post('/auth/register', { email, password: strongPassword() })).status).toBe(201);
    const [{ id }] = await stack.sql<{ id: string }>(`select id from outbox where payload->>'email' = ?`, [email]);
    const auth = basic(ADMIN.username, ADMIN.password);
    await waitUntil(async () => (await get(`/admin/queues/api/queues/mail/${id}`, auth)).json?.status === 'failed', 15_000, 'the job failed');

    const attacker = uniqueEmail('dashboard-attacker');
    const json = { authorization: auth, 'content-type': 'application/json' };
    const refused: Array<[method: string, path: string, body?: unknown]> = [
      ['PATCH', `/admin/queues/api/queues/mail/${id}/update-data`, { data: { email: attacker } }],
      ['POST', '/admin/queues/api/queues/mail/add', { name: 'password.reset-requested', data: { email: attacker }, options: {} }],
      ['PUT', `/admin/queues/api/queues/mail/${id}/promote`],
      ['PUT', '/admin/queues/api/queues/mail/promote'],
      ['PUT', `/admin/queues/api/queues/mail/${id}/clean`],
      ['PUT', '/admin/queues/api/queues/mail/clean/wait'],
      ['PUT', '/admin/queues/api/queues/mail/retry/completed'],
      ['PUT', '/admin/queues/api/queues/mail/pause'],
      ['PUT', '/admin/queues/api/queues/pause'],
      ['PUT', '/admin/queues/api/queues/mail/empty'],
      ['PUT', '/admin/queues/api/queues/mail/obliterate'],
      ['PUT', '/admin/queues/api/queues/mail/concurrency', { concurrency: 1 }],
    ];
    for (const [method, path, body] of refused) {
      const answer = await rawRequest(stack.opsUrl, method, path, { headers: body === undefined ? { authorization: auth } : json, body: body === undefined ? undefined : JSON.stringify(body) });
      expect({ method, path, status: answer.status }).toEqual({ method, path, status: 403 });
    }
    const job = (await get(`/admin/queues/api/queues/mail/${id}`, auth)).json;
    expect({ status: job.status, email: job.job.data.email }).toEqual({ status: 'failed', email });
    const queue = (await get('/admin/queues/api/queues', auth)).json.queues[0];
    expect(queue.isPaused).toBe(false);
    expect(stack.sink.messages.filter(to(attacker))).toEqual([]);
  });
});

describe('ops: queue dashboard sign-in attempts', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password }, withoutWorker: true });
  });
  afterAll(() => stack?.close());

  it('answers 429 with Retry-After after 10 failed attempts from one IP, right credentials included', async () => {
    const page = (authorization?: string) => rawRequest(stack.opsUrl, 'GET', '/admin/queues/api/queues', { headers: authorization ? { authorization } : {} });
    // A request without credentials is a browser asking for the challenge, not a guess.
    for (let i = 0; i < 3; i++) expect((await page()).status).toBe(401);
    for (let i = 1; i <= 10; i++) expect({ attempt: i, status: (await page(basic(ADMIN.username, `guess ${i}`))).status }).toEqual({ attempt: i, status: 401 });

    for (const authorization of [basic(ADMIN.username, 'guess 11'), basic(ADMIN.username, ADMIN.password)]) {
      const throttled = await page(authorization);
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(throttled.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    }
  });
});

describe('ops: queue dashboard without credentials configured', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true });
  });
  afterAll(() => stack?.close());

  it('is not mounted at all', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const answer = await rawRequest(stack.opsUrl, 'GET', path, { headers: { authorization: basic(ADMIN.username, ADMIN.password) } });
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
    }
  });
});

describe('ops: dashboard configuration', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });
  const load = (vars: Record<string, string>) => {
    process.env = { ...saved };
    delete process.env.ADMIN_USERNAME;
    delete process.env.ADMIN_PASSWORD;
    Object.assign(process.env, vars);
    return adminConfig();
  };

  it('is off unless both variables are set, and refuses one without the other', () => {
    expect(load({}).dashboard).toBeUndefined();
    expect(load({ ADMIN_USERNAME: 'ops', ADMIN_PASSWORD: 'x' }).dashboard).toEqual({ username: 'ops', password: 'x' });
    expect(() => load({ ADMIN_USERNAME: 'ops' })).toThrow(new ConfigError('ADMIN_USERNAME and ADMIN_PASSWORD must be set together (or both left unset to turn the dashboard off)'));
    expect(() => load({ ADMIN_PASSWORD: 'a long dashboard passphrase' })).toThrow(ConfigError);
    expect(() => load({ ADMIN_USERNAME: 'o:ps', ADMIN_PASSWORD: 'x' })).toThrow(/ADMIN_USERNAME must not contain ":"/);
  });

  it('asks for at least 12 characters of password in production', () => {
    const production = { NODE_ENV: 'production', ADMIN_USERNAME: 'ops' };
    expect(() => load({ ...production, ADMIN_PASSWORD: 'eleven-char' })).toThrow(new ConfigError('ADMIN_PASSWORD must be at least 12 characters in production'));
    expect(load({ ...production, ADMIN_PASSWORD: 'twelve-chars' }).dashboard?.password).toBe('twelve-chars');
  });
});

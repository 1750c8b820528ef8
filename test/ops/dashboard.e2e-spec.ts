import { adminConfig, ConfigError } from '@accounts/config';
import { eventually } from '../support/ops';
import { rawRequest } from '../support/raw-http';
import { startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

const ADMIN = { username: 'ops', password: 'a long dashboard passphrase' };
const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

describe('ops: queue dashboard', () => {
  let stack: Stack;
  const get = (path: string, authorization?: string) => rawRequest(stack.api.baseUrl, 'GET', path, { headers: authorization ? { authorization } : {} });

  beforeAll(async () => {
    stack = await startStack({
      env: { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, MAIL_ATTEMPTS: '1', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal' },
    });
  });
  afterAll(() => stack?.close());

  it('refuses every path without the right credentials, with a Basic challenge', async () => {
    const wrong = [undefined, basic(ADMIN.username, 'not the password'), basic('someone', ADMIN.password), basic(ADMIN.username, ''), 'Bearer x', 'Basic !!!'];
    for (const path of ['/admin/queues', '/admin/queues/', '/admin/queues/queue/mail', '/admin/queues/api/queues']) {
      for (const authorization of wrong) {
        const answer = await get(path, authorization);
        expect({ path, authorization, status: answer.status }).toEqual({ path, authorization, status: 401 });
        expect(answer.headers['www-authenticate']).toMatch(/^Basic realm="Queue dashboard"/);
      }
    }
    const retry = await rawRequest(stack.api.baseUrl, 'PUT', '/admin/queues/api/queues/mail/retry/failed');
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
    expect((await get('/health/live')).headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('retries a failed job from the dashboard', async () => {
    const email = uniqueEmail('dashboard');
    stack.sink.rejectRecipient(email, 550);
    expect((await stack.api.post('/auth/register', { email, password: strongPassword() })).status).toBe(201);
    const [{ id }] = await stack.sql<{ id: string }>(`select id from outbox where payload->>'email' = ?`, [email]);
    const auth = basic(ADMIN.username, ADMIN.password);
    await eventually(async () => (await get(`/admin/queues/api/queues/mail/${id}`, auth)).json?.status === 'failed', 15_000, 'the job failed');

    stack.sink.acceptRecipient(email);
    const delivered = stack.sink.waitFor(to(email), 15_000);
    const retry = await rawRequest(stack.api.baseUrl, 'PUT', `/admin/queues/api/queues/mail/${id}/retry`, { headers: { authorization: auth } });
    expect(retry.status).toBe(204);
    expect((await delivered).messageId).toContain(id);
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
      const answer = await rawRequest(stack.api.baseUrl, 'GET', path, { headers: { authorization: basic(ADMIN.username, ADMIN.password) } });
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

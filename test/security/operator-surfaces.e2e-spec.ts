import { rawRequest } from '../support/raw-http';
import { startStack, type Stack } from '../support/stack';

const ADMIN = { username: 'ops', password: 'a long dashboard passphrase' };
const OPERATOR_PATHS = ['/metrics', '/docs', '/docs/openapi.json', '/docs/assets/swagger-ui-bundle.js', '/admin/queues', '/admin/queues/api/queues'];

/**
 * Metrics (whose outbox backlog can hint that an address was just used), the API docs and the
 * queue dashboard are for operators: they live on the operators' listener (OPS_HOST:OPS_PORT,
 * loopback by default), never on the public port.
 */
describe('security: operator surfaces stay off the public port', () => {
  let stack: Stack;
  const authorization = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;

  beforeAll(async () => {
    stack = await startStack({ env: { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password }, withoutWorker: true });
  });
  afterAll(() => stack?.close());

  it('answers 404 on the public port for metrics, docs and the dashboard, credentials or not', async () => {
    for (const path of OPERATOR_PATHS) {
      for (const headers of [{}, { authorization }] as Array<Record<string, string>>) {
        const answer = await rawRequest(stack.api.baseUrl, 'GET', path, { headers });
        expect({ path, status: answer.status }).toEqual({ path, status: 404 });
        expect({ path, leaks: /swagger|bull-board|outbox_backlog|openapi/i.test(answer.text) }).toEqual({ path, leaks: false });
      }
    }
    const edit = await rawRequest(stack.api.baseUrl, 'PUT', '/admin/queues/api/queues/mail/retry/failed', { headers: { authorization } });
    expect(edit.status).toBe(404);
  });

  it('keeps health on the public port for load balancers', async () => {
    for (const path of ['/health/live', '/health/ready']) expect({ path, status: (await rawRequest(stack.api.baseUrl, 'GET', path)).status }).toEqual({ path, status: 200 });
  });

  it('serves them on the operators listener, on loopback by default, which serves no API', async () => {
    expect(new URL(stack.opsUrl).hostname).toBe('127.0.0.1');
    for (const path of OPERATOR_PATHS) {
      const answer = await rawRequest(stack.opsUrl, 'GET', path, { headers: { authorization } });
      expect({ path, status: answer.status }).toEqual({ path, status: 200 });
    }
    expect((await rawRequest(stack.opsUrl, 'POST', '/api/v1/auth/login', { headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    expect((await rawRequest(stack.opsUrl, 'GET', '/login')).status).toBe(404);
  });
});

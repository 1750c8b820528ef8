import { createAccount, signIn } from '../support/security';
import { startStack, type Stack } from '../support/stack';

/** HTTP as ordinary clients speak it: generated clients and libraries, not hand-made requests. */
describe('contract: HTTP that ordinary clients speak', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true });
  });
  afterAll(() => stack?.close());

  it('accepts the bearer scheme in any case (RFC 9110 §11.1)', async () => {
    const account = await createAccount(stack, { label: 'bearer-case' });
    const { accessToken } = await signIn(stack, account.email, account.password);
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const me = await stack.api.request('GET', '/api/v1/users/me', { headers: { authorization: `${scheme} ${accessToken}` } });
      expect({ scheme, status: me.status }).toEqual({ scheme, status: 200 });
    }
    const other = await stack.api.request('GET', '/api/v1/users/me', { headers: { authorization: `Basic ${accessToken}` } });
    expect(other.status).toBe(401);
  });

  it('ends sessions for a DELETE that declares application/json and sends no body', async () => {
    const account = await createAccount(stack, { label: 'empty-delete' });
    const first = await signIn(stack, account.email, account.password);
    const second = await signIn(stack, account.email, account.password);
    const sessions = await stack.api.get<Array<{ id: string; current: boolean }>>('/auth/sessions', first.accessToken);
    const other = sessions.body.find((session) => !session.current)!;
    const json = { 'content-type': 'application/json', authorization: `Bearer ${first.accessToken}` };

    const one = await stack.api.request('DELETE', `/api/v1/auth/sessions/${other.id}`, { headers: json });
    expect(one.status).toBe(204);
    expect((await stack.api.get('/users/me', second.accessToken)).status).toBe(401);

    const everywhere = await stack.api.request('DELETE', '/api/v1/auth/sessions', { headers: json });
    expect(everywhere.status).toBe(204);
    expect((await stack.api.get('/users/me', first.accessToken)).status).toBe(401);
  });

  it('still refuses a POST that declares application/json and sends no body', async () => {
    const login = await stack.api.request('POST', '/api/v1/auth/login', { headers: { 'content-type': 'application/json' } });
    expect(login.status).toBe(400);
    expect(login.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(['MALFORMED_REQUEST', 'VALIDATION_FAILED']).toContain(login.body.code);
  });
});

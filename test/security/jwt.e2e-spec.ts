import { expectDocumentedResponses } from '../support/openapi-contract';
import { decodeJwt, forgeJwt, signAccessToken, TEST_JWT } from '../support/jwt';
import { createAccount, expectProblem, requestConfirmationToken, requestResetToken, signIn, type Account, type Session } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { strongPassword } from '../support/unique';

/**
 * Bearer tokens (ASVS 5.0 V9 self-contained tokens, OWASP JWT cheat sheet): only an HS256 token
 * signed with our key, for our issuer and audience, unexpired, from the Authorization header, whose
 * session is still alive, is accepted. Every refusal is a 401 UNAUTHENTICATED problem document.
 */
describe('security: access tokens (JWT)', () => {
  let stack: Stack;
  let alice: Account & { session: Session; sessionId: string };
  let bob: Account & { session: Session; sessionId: string };

  async function signedInAccount(label: string) {
    const account = await createAccount(stack, { label });
    const session = await signIn(stack, account.email, account.password);
    return { ...account, session, sessionId: decodeJwt(session.accessToken).payload.sid as string };
  }

  beforeAll(async () => {
    stack = await startStack();
    alice = await signedInAccount('jwt-alice');
    bob = await signedInAccount('jwt-bob');
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  async function expectRefused(token: string, label: string) {
    const me = await stack.api.get('/users/me', token);
    expect({ label, status: me.status }).toEqual({ label, status: 401 });
    expectProblem(me, 401, 'UNAUTHENTICATED');
    expect(me.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(JSON.stringify(me.body)).not.toContain(token);
  }

  function aliceClaims() {
    return { sub: alice.userId, sid: alice.sessionId };
  }

  it('accepts a token built by the test helper with the right key and claims (control for the forgeries below)', async () => {
    const issued = decodeJwt(alice.session.accessToken);
    expect(issued.header).toMatchObject({ alg: 'HS256' });
    expect(issued.payload).toMatchObject({ sub: alice.userId, iss: TEST_JWT.issuer, aud: TEST_JWT.audience });
    const me = await stack.api.get('/users/me', signAccessToken(aliceClaims()));
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(alice.userId);
  });

  it('refuses alg "none" (any spelling, with or without a signature)', async () => {
    const payload = { ...decodeJwt(alice.session.accessToken).payload };
    const { signature } = decodeJwt(alice.session.accessToken);
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await expectRefused(forgeJwt({ alg, typ: 'JWT' }, payload, { signature: '' }), `${alg} unsigned`);
      await expectRefused(forgeJwt({ alg, typ: 'JWT' }, payload, { signature }), `${alg} with the real signature`);
      await expectRefused(forgeJwt({ alg, typ: 'JWT' }, payload, { signature: 'AAAA' }), `${alg} with junk`);
    }
  });

  it('refuses a tampered payload (sub or sid changed to another user\'s) that keeps the original signature', async () => {
    const { header, payload, signature } = decodeJwt(alice.session.accessToken);
    await expectRefused(forgeJwt(header, { ...payload, sub: bob.userId }, { signature }), 'sub swapped');
    await expectRefused(forgeJwt(header, { ...payload, sid: bob.sessionId }, { signature }), 'sid swapped');
    await expectRefused(forgeJwt(header, { ...payload, sub: bob.userId, sid: bob.sessionId }, { signature }), 'both swapped');
    await expectRefused(forgeJwt(header, { ...payload, exp: (payload.exp as number) + 86_400 }, { signature }), 'exp extended');
    // Even correctly signed, a session only counts for the user it belongs to.
    await expectRefused(signAccessToken({ sub: alice.userId, sid: bob.sessionId }), 'alice with bob\'s session, signed');
    const stillAlice = await stack.api.get('/users/me', alice.session.accessToken);
    expect(stillAlice.body.user.id).toBe(alice.userId);
  });

  it('refuses tokens signed with another key, including keys the token itself points to (jwk, jku, kid)', async () => {
    const attackerKey = 'attacker-controlled secret, at least thirty-two bytes';
    await expectRefused(signAccessToken(aliceClaims(), attackerKey), 'wrong secret');
    await expectRefused(signAccessToken(aliceClaims(), ''), 'empty secret');
    const claims = { ...aliceClaims(), iss: TEST_JWT.issuer, aud: TEST_JWT.audience, exp: Math.floor(Date.now() / 1000) + 600 };
    const jwk = { kty: 'oct', k: Buffer.from(attackerKey).toString('base64url') };
    await expectRefused(forgeJwt({ alg: 'HS256', jwk }, claims, { key: attackerKey }), 'embedded jwk');
    await expectRefused(forgeJwt({ alg: 'HS256', jku: 'https://evil.test/jwks.json' }, claims, { key: attackerKey }), 'jku');
    await expectRefused(forgeJwt({ alg: 'HS256', kid: '../../../../dev/null' }, claims, { key: '' }), 'kid path traversal');
    await expectRefused(forgeJwt({ alg: 'HS256', kid: "' UNION SELECT 'key" }, claims, { key: 'key' }), 'kid injection');
  });

  it('refuses an expired token and one not yet valid, even when correctly signed', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(signAccessToken({ ...aliceClaims(), iat: now - 1_000, exp: now - 60 }), 'expired a minute ago');
    await expectRefused(signAccessToken({ ...aliceClaims(), iat: now - 100_000, exp: now - 90_000 }), 'expired long ago');
    await expectRefused(signAccessToken({ ...aliceClaims(), nbf: now + 3_600 }), 'not before an hour from now');
  });

  it('accepts only HS256: other algorithms are refused even when signed with the right key', async () => {
    const claims = { ...aliceClaims(), iss: TEST_JWT.issuer, aud: TEST_JWT.audience, exp: Math.floor(Date.now() / 1000) + 600 };
    // The classic confusion: an asymmetric alg in the header, HMAC'd with a key the server knows.
    for (const alg of ['RS256', 'RS512', 'ES256', 'PS256', 'EdDSA']) {
      await expectRefused(forgeJwt({ alg, typ: 'JWT' }, claims, { key: TEST_JWT.secret }), `${alg} header, HMAC signature`);
    }
    await expectRefused(forgeJwt({ alg: 'HS384', typ: 'JWT' }, claims, { key: TEST_JWT.secret, hash: 'sha384' }), 'HS384');
    await expectRefused(forgeJwt({ alg: 'HS512', typ: 'JWT' }, claims, { key: TEST_JWT.secret, hash: 'sha512' }), 'HS512');
    await expectRefused(forgeJwt({ typ: 'JWT' }, claims, { key: TEST_JWT.secret }), 'no alg at all');
  });

  it('refuses a wrong or missing issuer or audience', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['foreign issuer', { iss: 'http://evil.test' }],
      ['issuer with a path', { iss: 'http://accounts.test/evil' }],
      ['foreign audience', { aud: 'another-api' }],
      ['audience list without ours', { aud: ['another-api', 'third-api'] }],
      ['no issuer', { iss: undefined }],
      ['no audience', { aud: undefined }],
    ];
    for (const [label, override] of cases) await expectRefused(signAccessToken({ ...aliceClaims(), ...override }), label);
  });

  it('refuses a refresh, reset or confirmation token presented as a bearer token', async () => {
    const account = await createAccount(stack, { label: 'jwt-other-tokens', confirmed: false });
    const session = await signIn(stack, account.email, account.password);
    const confirmation = await requestConfirmationToken(stack, account.email);
    const reset = await requestResetToken(stack, account.email);
    for (const [label, token] of Object.entries({ refresh: session.refreshToken, reset, confirmation })) {
      await expectRefused(token, label);
      // A token must not pass for a JWT by being wrapped in one either.
      await expectRefused(`${token}.${token}.${token}`, `${label} in three segments`);
    }
    // None of them was spent by the attempt (refresh first: confirming ends the sessions opened before).
    expect((await stack.api.post('/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(200);
    expect((await stack.api.post('/auth/email/confirm', { token: confirmation, password: strongPassword() })).status).toBe(200);
  });

  it('accepts the access token only from the Authorization header: not from the query string, a cookie or the body', async () => {
    const token = alice.session.accessToken;
    for (const path of [`/api/v1/users/me?access_token=${token}`, `/api/v1/users/me?token=${token}`, `/api/v1/auth/sessions?access_token=${token}`]) {
      const response = await stack.api.request('GET', path);
      expect({ path, status: response.status }).toEqual({ path, status: 401 });
      expectProblem(response, 401, 'UNAUTHENTICATED');
    }
    const cookie = await stack.api.request('GET', '/api/v1/users/me', { headers: { cookie: `access_token=${token}; token=${token}` } });
    expectProblem(cookie, 401, 'UNAUTHENTICATED');
    const inBody = await stack.api.request('DELETE', '/api/v1/auth/sessions', { body: { accessToken: token } });
    expect(inBody.status).toBe(401);
    for (const header of [token, `Token ${token}`, `Basic ${token}`, `Bearer  ${token}`, `Bearer ${token} extra`]) {
      const response = await stack.api.request('GET', '/api/v1/users/me', { headers: { authorization: header } });
      expect({ header: header.slice(0, 12), status: response.status }).toEqual({ header: header.slice(0, 12), status: 401 });
    }
    // Alice's session survived every attempt.
    expect((await stack.api.get('/users/me', token)).status).toBe(200);
  });

  it('refuses a valid, unexpired token on the very next request once its session is revoked', async () => {
    const account = await createAccount(stack, { label: 'jwt-revoked' });
    const loggedOut = await signIn(stack, account.email, account.password);
    const revokedById = await signIn(stack, account.email, account.password);
    const everywhere = await signIn(stack, account.email, account.password);

    expect((await stack.api.post('/auth/logout', { refreshToken: loggedOut.refreshToken })).status).toBe(204);
    await expectRefused(loggedOut.accessToken, 'after logout');

    const sid = decodeJwt(revokedById.accessToken).payload.sid as string;
    expect((await stack.api.delete(`/auth/sessions/${sid}`, everywhere.accessToken)).status).toBe(204);
    await expectRefused(revokedById.accessToken, 'after DELETE /auth/sessions/:id');

    expect((await stack.api.delete('/auth/sessions', everywhere.accessToken)).status).toBe(204);
    await expectRefused(everywhere.accessToken, 'after sign-out everywhere');
    // A self-signed token for the dead session is no better.
    await expectRefused(signAccessToken({ sub: account.userId, sid }), 'forged for a revoked session');
  });

  it("cannot list or end another user's sessions", async () => {
    const list = await stack.api.get('/auth/sessions', bob.session.accessToken);
    expect(list.status).toBe(200);
    expect(list.body.map((s: { id: string }) => s.id)).not.toContain(alice.sessionId);

    const revoke = await stack.api.delete(`/auth/sessions/${alice.sessionId}`, bob.session.accessToken);
    expectProblem(revoke, 404, 'NOT_FOUND');
    expect((await stack.api.get('/users/me', alice.session.accessToken)).status).toBe(200);
  });
});

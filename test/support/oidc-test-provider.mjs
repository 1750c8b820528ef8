// A real OpenID Provider (the certified oidc-provider package) for the tests, run as a child process
// by test/support/oidc-provider.ts so jest's module loader never meets this ESM-only package.
// Tests steer it over plain HTTP on /__test/*: who signs in next, whether consent is denied, whether
// the token endpoint's ID token is tampered with, whether the whole provider hangs.
// Environment: OIDC_TEST_CLIENTS (JSON array of oidc-provider client metadata).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { decodeJwt, importJWK, SignJWT } from 'jose';
import Provider from 'oidc-provider';

const clients = JSON.parse(process.env.OIDC_TEST_CLIENTS ?? '[]');
const accounts = new Map();
let next = { account: undefined, deny: false };
let tamper = 'none';
let hanging = false;

function rsaJwk(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}
const signingJwk = rsaJwk('test-key');
// Same kid, different key: a token signed with it claims to come from the provider but does not verify.
const foreignJwk = rsaJwk('test-key');

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  // Claims of the email and profile scopes go into the ID token (Google and Keycloak do the same).
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (_ctx, id) => {
    const account = accounts.get(id);
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
});
provider.on('server_error', (_ctx, error) => console.error('oidc-provider server_error', error));

async function rewrite(idToken) {
  const claims = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  const changed = {
    'wrong-aud': { ...claims, aud: 'someone-else' },
    'wrong-iss': { ...claims, iss: 'http://127.0.0.1:1' },
    expired: { ...claims, iat: now - 7200, exp: now - 3600 },
    'bad-signature': claims,
    'wrong-nonce': { ...claims, nonce: 'not-the-nonce' },
  }[tamper];
  const key = await importJWK(tamper === 'bad-signature' ? foreignJwk : signingJwk, 'RS256');
  return new SignJWT(changed).setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: 'JWT' }).sign(key);
}

provider.use(async (ctx, nextMiddleware) => {
  await nextMiddleware();
  if (ctx.path === '/token' && tamper !== 'none' && ctx.body && typeof ctx.body.id_token === 'string') {
    ctx.body = { ...ctx.body, id_token: await rewrite(ctx.body.id_token) };
  }
});

async function readJson(request) {
  let body = '';
  for await (const chunk of request) body += chunk;
  return body ? JSON.parse(body) : {};
}

const callback = provider.callback();
server.on('request', async (request, response) => {
  const url = new URL(request.url, issuer);
  try {
    if (url.pathname === '/__test/next') {
      const body = await readJson(request);
      if (body.account) accounts.set(body.account.sub, { email: body.account.email, email_verified: body.account.email_verified, name: body.account.name });
      next = { account: body.account?.sub, deny: body.deny === true };
      tamper = body.tamper ?? 'none';
      return response.writeHead(204).end();
    }
    if (url.pathname === '/__test/hang') {
      hanging = (await readJson(request)).hang === true;
      return response.writeHead(204).end();
    }
    // Accepts the request and never answers: a provider that hangs.
    if (hanging) return;
    if (url.pathname.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(request, response);
      if (next.deny || !next.account) {
        return provider.interactionFinished(request, response, { error: 'access_denied', error_description: 'The user said no' }, { mergeWithLastSubmission: false });
      }
      const grant = new provider.Grant({ accountId: next.account, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      const grantId = await grant.save();
      return provider.interactionFinished(request, response, { login: { accountId: next.account }, consent: { grantId } }, { mergeWithLastSubmission: false });
    }
    return callback(request, response);
  } catch (error) {
    console.error(error);
    if (!response.headersSent) response.writeHead(500).end();
  }
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);

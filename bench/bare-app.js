'use strict';
// The baseline for the authenticated read, refresh and forgot-password: what any API that checks
// its session in PostgreSQL on every request could answer on this machine. A bare Fastify app (no
// Nest, no plugins, no logging) answering GET /api/v1/users/me like the API does: the bearer JWT
// verified by jsonwebtoken with a KeyObject (HS256, issuer, audience), then the session check and
// the user as ONE prepared statement through a bare `pg` pool of the API's size, and the same JSON.
//
// Environment: PORT, DATABASE_URL, DATABASE_POOL_SIZE (default 10), JWT_SECRET, APP_URL (the
// issuer is its origin, as in libs/config/src/auth.config.ts).
const { createSecretKey } = require('node:crypto');
const fastify = require('fastify');
const jwt = require('jsonwebtoken');
const { Pool } = require('pg');

const key = createSecretKey(Buffer.from(process.env.JWT_SECRET, 'utf8'));
const verifyOptions = { algorithms: ['HS256'], issuer: new URL(process.env.APP_URL).origin, audience: 'accounts-api' };
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_SIZE || 10) });
const BEARER = /^bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;
const SESSION_USER = {
  name: 'bench-session-user',
  text: `select u.id, u.email, u.name, u.email_confirmed_at, u.created_at
           from sessions s join users u on u.id = s.user_id
          where s.id = $1 and s.user_id = $2 and s.revoked_at is null and s.expires_at > now()`,
};

const app = fastify({ logger: false });
app.get('/api/v1/users/me', async (request, reply) => {
  const match = BEARER.exec(request.headers.authorization ?? '');
  let claims;
  try {
    claims = match && jwt.verify(match[1], key, verifyOptions);
  } catch {
    claims = null;
  }
  if (!claims || typeof claims.sub !== 'string' || typeof claims.sid !== 'string') return reply.code(401).send({ code: 'UNAUTHENTICATED' });
  const { rows } = await pool.query({ ...SESSION_USER, values: [claims.sid, claims.sub] });
  if (rows.length !== 1) return reply.code(401).send({ code: 'UNAUTHENTICATED' });
  const u = rows[0];
  return { user: { id: u.id, email: u.email, name: u.name, emailConfirmed: u.email_confirmed_at !== null, createdAt: u.created_at.toISOString() } };
});

app
  .listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
  .then(() => process.send?.({ type: 'ready' }))
  .catch((error) => {
    process.stderr.write(`bare-app: ${error.stack}\n`);
    process.exit(1);
  });

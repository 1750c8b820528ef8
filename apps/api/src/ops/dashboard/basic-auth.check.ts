import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, onRequestAsyncHookHandler } from 'fastify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export interface Credentials {
  username: string;
  password: string;
}

/** Same-length digests, so the comparison takes as long whatever the guess, and whatever its length. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Whether an Authorization header carries exactly these Basic credentials. */
export function hasCredentials(authorization: string | undefined, expected: Credentials): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(authorization ?? '');
  const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  const username = colon === -1 ? '' : decoded.slice(0, colon);
  const password = colon === -1 ? '' : decoded.slice(colon + 1);
  // Both halves are always compared, so a right name with a wrong password takes no other time.
  const userMatches = timingSafeEqual(digest(username), digest(expected.username));
  const passwordMatches = timingSafeEqual(digest(password), digest(expected.password));
  return match !== null && colon !== -1 && userMatches && passwordMatches;
}

/** Failed logins per client IP before the dashboard answers 429, and the window they count in. */
export const LOGIN_ATTEMPTS = 10;
export const LOGIN_WINDOW_SECONDS = 15 * 60;

/**
 * An onRequest hook that lets through only requests with these credentials; others get 401 and a
 * Basic challenge. Wrong credentials count against the client's IP: past LOGIN_ATTEMPTS in the
 * window it answers 429 with Retry-After, right credentials included, until the window ends. A
 * request without credentials (a browser's first one) is not an attempt.
 */
export function basicAuth(expected: Credentials, realm: string): onRequestAsyncHookHandler {
  // In process memory, per replica: enough for an operators' port that is not public, and it keeps
  // the dashboard's login working whatever state Redis is in.
  const failures = new RateLimiterMemory({ keyPrefix: 'dashboard-login', points: LOGIN_ATTEMPTS, duration: LOGIN_WINDOW_SECONDS });
  return async (request, reply) => {
    const { authorization } = request.headers;
    if (authorization === undefined) return challenge(reply, realm);
    const spent = await failures.get(request.ip);
    if (spent !== null && spent.remainingPoints <= 0) return tooManyAttempts(reply, spent);
    if (hasCredentials(authorization, expected)) return;
    try {
      await failures.consume(request.ip);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return tooManyAttempts(reply, rejection);
      throw rejection;
    }
    return challenge(reply, realm);
  };
}

function challenge(reply: FastifyReply, realm: string): FastifyReply {
  return reply
    .code(401)
    .header('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`)
    .header('Cache-Control', 'no-store')
    .type('text/plain; charset=utf-8')
    .send('Authentication required');
}

function tooManyAttempts(reply: FastifyReply, state: RateLimiterRes): FastifyReply {
  return reply
    .code(429)
    .header('Retry-After', String(Math.max(1, Math.ceil(state.msBeforeNext / 1000))))
    .header('Cache-Control', 'no-store')
    .type('text/plain; charset=utf-8')
    .send('Too many failed sign-in attempts; try again later');
}

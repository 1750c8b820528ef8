import { createHash, timingSafeEqual } from 'node:crypto';
import type { onRequestHookHandler } from 'fastify';

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

/** An onRequest hook that lets through only requests with these credentials; others get 401 and a Basic challenge. */
export function basicAuth(expected: Credentials, realm: string): onRequestHookHandler {
  return (request, reply, done) => {
    if (hasCredentials(request.headers.authorization, expected)) return done();
    reply
      .code(401)
      .header('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`)
      .header('Cache-Control', 'no-store')
      .type('text/plain; charset=utf-8')
      .send('Authentication required');
  };
}

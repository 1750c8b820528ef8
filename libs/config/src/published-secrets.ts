/**
 * Secret values that are, or were, written in this repository: examples, the test suite's keys and
 * docker-compose.yml's former literals. Anyone who has read the repository knows them, so production
 * refuses each of them for JWT_SECRET, PAYLOAD_KEY, MFA_KEY and ADMIN_PASSWORD (a development key derived
 * from the source is refused as well, see Env.secret). Add any example secret you publish here;
 * env.spec.ts checks the README, .env.example and docker-compose.yml against this list.
 */
export const PUBLISHED_SECRETS: readonly string[] = [
  // docker-compose.yml until it took its secrets from a generated .env
  'Y29tcG9zZS1leGFtcGxlLXBheWxvYWQta2V5LTMyYiE=',
  'compose-example-jwt-secret-for-local-use-only-0123456789',
  'compose-example-dashboard-password',
  // test/support/test-env.ts and test/support/jwt.ts
  'test-only jwt secret, at least thirty-two bytes long',
  Buffer.alloc(32, 7).toString('base64'),
  Buffer.alloc(32, 9).toString('base64'),
];

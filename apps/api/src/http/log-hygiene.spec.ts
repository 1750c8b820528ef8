import { DriverException } from '@mikro-orm/core';
import { describeForLog } from './problem-details.filter';
import { withoutQueryStrings } from './request-logging.config';
import { tooDeeplyNested } from './validation.pipe';

describe('describeForLog', () => {
  it('keeps a driver error class, SQLSTATE, table and frames, but never the statement or its values', () => {
    const driverError = Object.assign(
      new Error(
        `insert into "users" ("email", "password_hash") values ('ada@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA') - value too long for type character varying(254)`,
      ),
      { code: '22001', table: 'users', routine: 'varchar' },
    );
    const line = describeForLog(new DriverException(driverError));
    expect(line).toContain('DriverException');
    expect(line).toContain('SQLSTATE 22001');
    expect(line).toContain('table users');
    expect(line).toMatch(/\n\s+at /);
    expect(line).not.toMatch(/insert into|ada@example\.com|argon2id|varying/i);
  });

  it('logs other errors with their stack', () => {
    expect(describeForLog(new TypeError('boom'))).toMatch(/^TypeError: boom\n\s+at /);
    expect(describeForLog('plain')).toBe('plain');
  });
});

describe('tooDeeplyNested', () => {
  it('names the top-level field that nests too deeply, without recursing', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(tooDeeplyNested({ email: 'a@example.com', password: deep })).toBe('password');
    expect(tooDeeplyNested(deep)).toBe('');
    expect(tooDeeplyNested({ email: 'a@example.com', password: 'p' })).toBeUndefined();
    expect(tooDeeplyNested({ a: { b: { c: 1 } } })).toBeUndefined();
    expect(tooDeeplyNested('text')).toBeUndefined();
  });
});

describe('withoutQueryStrings', () => {
  it("cuts the query strings out of Fastify's own messages, which quote the URL as received", () => {
    const message = 'Reply was already sent, did you forget to "return reply" in the "/reset-password?token=SECRET-TOKEN_1" (GET) route?';
    expect(withoutQueryStrings(message)).toBe('Reply was already sent, did you forget to "return reply" in the "/reset-password" (GET) route?');
    expect(withoutQueryStrings('GET /auth/oidc/corp/callback?code=abc&state=def failed')).toBe('GET /auth/oidc/corp/callback failed');
  });
});

import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminConfig } from './admin.config';
import { authConfig } from './auth.config';
import { ConfigError, developmentKey, Env, redactUrl } from './env';
import { mfaConfig } from './mfa.config';
import { payloadConfig } from './payload.config';
import { PUBLISHED_SECRETS } from './published-secrets';
import { rateLimitConfig } from './rate-limit.config';

describe('Env', () => {
  it('reads durations in ms-style units and refuses nonsense with the variable named', () => {
    expect(new Env({ TTL: '15m' }).duration('TTL', '1h')).toBe(900_000);
    expect(new Env({}).duration('TTL', '30d')).toBe(30 * 24 * 3_600_000);
    expect(() => new Env({ TTL: 'soon' }).duration('TTL', '1h')).toThrow(new ConfigError('TTL must be a duration such as 15m, 24h or 30d (got "soon")'));
  });

  it('bounds integers and names the range', () => {
    expect(new Env({ PORT: '8080' }).int('PORT', 3000, { min: 0, max: 65535 })).toBe(8080);
    expect(() => new Env({ PORT: '70000' }).int('PORT', 3000, { min: 0, max: 65535 })).toThrow(/PORT must be an integer >= 0 and <= 65535/);
  });

  it('refuses multi-line values, which could forge mail headers', () => {
    expect(() => new Env({ MAIL_FROM: 'a@b.c\r\nBcc: x@y.z' }).string('MAIL_FROM', '')).toThrow(/single line/);
  });

  it('requires secrets in production and refuses placeholders there', () => {
    const parse = (raw: string) => Buffer.from(raw);
    const warn = jest.fn();
    expect(() => new Env({ NODE_ENV: 'production' }).secret('KEY', () => Buffer.alloc(1), parse, warn)).toThrow(/KEY is required in production/);
    expect(() => new Env({ NODE_ENV: 'production', KEY: 'change-me-please' }).secret('KEY', () => Buffer.alloc(1), parse, warn)).toThrow(/placeholder/);
    expect(new Env({ NODE_ENV: 'development' }).secret('KEY', () => Buffer.from('dev'), parse, warn).toString()).toBe('dev');
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('runs as production when NODE_ENV is unset, so secrets are required (fail closed)', () => {
    expect(new Env({}).runtime).toBe('production');
    expect(new Env({}).isProduction).toBe(true);
    expect(() => new Env({}).secret('KEY', () => Buffer.alloc(1), (raw) => Buffer.from(raw), jest.fn())).toThrow(
      new ConfigError('KEY is required in production (NODE_ENV is unset, which means production; npm start sets development)'),
    );
    expect(new Env({ NODE_ENV: 'test' }).isProduction).toBe(false);
    expect(() => new Env({ NODE_ENV: 'prod' }).runtime).toThrow(/NODE_ENV must be one of development, test, production/);
  });

  it('masks the password of a URL', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/accounts')).toBe('postgres://app:***@db:5432/accounts');
  });
});

describe('rate limit config', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('parses N/window and keeps the defaults of the spec', () => {
    process.env.RATE_LIMIT_MAIL_PER_ADDRESS = '5 / 2h';
    const config = rateLimitConfig();
    expect(config.mailPerAddress).toEqual({ points: 5, windowMs: 7_200_000 });
    expect(config.loginPerAccount).toEqual({ points: 10, windowMs: 900_000 });
    expect(config.authPerIp).toEqual({ points: 100, windowMs: 900_000 });
    expect(config.tokenGuessPerIp).toEqual({ points: 20, windowMs: 900_000 });
  });

  it('refuses a limit without a window', () => {
    process.env.RATE_LIMIT_AUTH_PER_IP = '100';
    expect(() => rateLimitConfig()).toThrow(/RATE_LIMIT_AUTH_PER_IP must be written N\/window/);
  });
});

describe('secrets published in the repository', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });
  /** Loads a namespace with exactly `vars` as the environment. */
  const load = <T>(factory: () => T, vars: Record<string, string>): T => {
    process.env = { ...vars };
    return factory();
  };
  const strongJwt = 'a-jwt-secret-nobody-has-published-0123456789';
  const strongBytes = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256));
  const strongKey = strongBytes.toString('base64');

  it('refuses every published value for JWT_SECRET, PAYLOAD_KEY and ADMIN_PASSWORD in production, with one line naming the variable', () => {
    for (const value of PUBLISHED_SECRETS) {
      expect(() => load(authConfig, { JWT_SECRET: value })).toThrow(/^JWT_SECRET holds a value published in this repository/);
      expect(() => load(payloadConfig, { PAYLOAD_KEY: value })).toThrow(/^PAYLOAD_KEY holds a value published in this repository/);
      expect(() => load(mfaConfig, { MFA_KEY: value })).toThrow(/^MFA_KEY holds a value published in this repository/);
      expect(() => load(adminConfig, { ADMIN_USERNAME: 'ops', ADMIN_PASSWORD: value })).toThrow(/^ADMIN_PASSWORD holds a value published in this repository/);
    }
    expect(() => load(authConfig, { JWT_SECRET: 'test-only jwt secret, at least thirty-two bytes long' })).toThrow(
      new ConfigError('JWT_SECRET holds a value published in this repository; generate your own (openssl rand -base64 32)'),
    );
  });

  it("refuses the development key and a published key written differently (base64 without padding)", () => {
    const development = developmentKey('payload');
    expect(() => load(payloadConfig, { PAYLOAD_KEY: development.toString('base64') })).toThrow(/^PAYLOAD_KEY holds a value published in this repository/);
    expect(() => load(payloadConfig, { PAYLOAD_KEY: Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '') })).toThrow(/^PAYLOAD_KEY holds a value published/);
    expect(() => load(payloadConfig, { PAYLOAD_KEY: 'Y29tcG9zZS1leGFtcGxlLXBheWxvYWQta2V5LTMyYiE' })).toThrow(/^PAYLOAD_KEY (holds a value published|still holds a placeholder)/);
    expect(() => load(authConfig, { JWT_SECRET: 'compose-example-jwt-secret-for-local-use-only-0123456780' })).toThrow(/^JWT_SECRET still holds a placeholder/);
    expect(() => load(mfaConfig, { MFA_KEY: developmentKey('mfa').toString('base64') })).toThrow(/^MFA_KEY holds a value published in this repository/);
    expect(() => load(mfaConfig, { MFA_KEY: Buffer.alloc(32, 9).toString('base64').replace(/=+$/, '') })).toThrow(/^MFA_KEY holds a value published/);
  });

  it('requires MFA_KEY in production, 32 bytes of base64, and names it', () => {
    expect(() => load(mfaConfig, {})).toThrow(/^MFA_KEY is required in production/);
    expect(() => load(mfaConfig, { MFA_KEY: 'too-short' })).toThrow(/^MFA_KEY must be 32 bytes/);
    expect(() => load(mfaConfig, { MFA_KEY: 'change-me-change-me-change-me-change-me-12=' })).toThrow(/^MFA_KEY still holds a placeholder/);
    expect(load(mfaConfig, { MFA_KEY: strongKey }).key).toEqual(strongBytes);
    expect(load(mfaConfig, { NODE_ENV: 'development' }).key).toEqual(developmentKey('mfa'));
  });

  it('refuses in production a key of very few different bytes, and MFA_KEY equal to PAYLOAD_KEY, with one line naming the variable', () => {
    const sameByte = Buffer.alloc(32, 42).toString('base64');
    const twoBytes = Buffer.from(Array.from({ length: 32 }, (_, i) => i % 2)).toString('base64');
    expect(() => load(mfaConfig, { MFA_KEY: sameByte })).toThrow(new ConfigError('MFA_KEY has too few different bytes to be random; generate one (openssl rand -base64 32)'));
    expect(() => load(mfaConfig, { MFA_KEY: twoBytes })).toThrow(/^MFA_KEY has too few different bytes/);
    expect(() => load(payloadConfig, { PAYLOAD_KEY: sameByte })).toThrow(/^PAYLOAD_KEY has too few different bytes/);
    expect(() => load(mfaConfig, { MFA_KEY: strongKey, PAYLOAD_KEY: strongKey })).toThrow(/^MFA_KEY must differ from PAYLOAD_KEY/);
    // The same key written without its padding is still the same key.
    expect(() => load(mfaConfig, { MFA_KEY: strongKey, PAYLOAD_KEY: strongKey.replace(/=+$/, '') })).toThrow(/^MFA_KEY must differ from PAYLOAD_KEY/);
    expect(load(mfaConfig, { MFA_KEY: strongKey, PAYLOAD_KEY: randomBytes(32).toString('base64') }).key).toEqual(strongBytes);
    // Outside production neither rule applies (the test environment's keys are published anyway).
    expect(load(mfaConfig, { NODE_ENV: 'test', MFA_KEY: sameByte, PAYLOAD_KEY: sameByte }).key).toEqual(Buffer.alloc(32, 42));
  });

  it('accepts values of your own in production, and published ones outside production', () => {
    expect(load(authConfig, { JWT_SECRET: strongJwt }).jwtKey.export().toString()).toBe(strongJwt);
    expect(load(payloadConfig, { PAYLOAD_KEY: strongKey }).key).toEqual(strongBytes);
    expect(load(adminConfig, { ADMIN_USERNAME: 'ops', ADMIN_PASSWORD: 'a dashboard passphrase of ours' }).dashboard?.password).toBe('a dashboard passphrase of ours');
    expect(load(payloadConfig, { NODE_ENV: 'test', PAYLOAD_KEY: Buffer.alloc(32, 7).toString('base64') }).key).toEqual(Buffer.alloc(32, 7));
    expect(load(adminConfig, { NODE_ENV: 'development', ADMIN_USERNAME: 'ops', ADMIN_PASSWORD: 'compose-example-dashboard-password' }).dashboard).toBeDefined();
  });

  it('knows every secret the README, docs/, .env.example, docker-compose.yml and the test environment write down', () => {
    const root = join(__dirname, '..', '..', '..');
    const docs = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`);
    const files = ['README.md', ...docs, '.env.example', 'docker-compose.yml', 'test/support/test-env.ts'];
    const written = files.flatMap((file) =>
      [...readFileSync(join(root, file), 'utf8').matchAll(/\b(?:JWT_SECRET|PAYLOAD_KEY|MFA_KEY|ADMIN_PASSWORD)\b['"`]?[ \t]*[:=][ \t]*['"`]?([^\s'"`]+(?: [^\s'"`]+)*)/g)]
        .map((match) => match[1])
        // Interpolations and code are not values.
        .filter((value) => !/^(\$\{|Buffer\.|process\.|<)/.test(value)),
    );
    expect(written).toContain('test-only jwt secret, at least thirty-two bytes long');
    expect(written.filter((value) => !PUBLISHED_SECRETS.includes(value))).toEqual([]);
  });
});

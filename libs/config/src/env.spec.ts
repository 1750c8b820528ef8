import { ConfigError, Env, redactUrl } from './env';
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

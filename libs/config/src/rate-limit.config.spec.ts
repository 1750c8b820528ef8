import { ConfigError } from './env';
import { rateLimitConfig } from './rate-limit.config';

describe('rate-limit config', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });
  const load = (vars: Record<string, string>) => {
    process.env = { ...vars };
    return rateLimitConfig();
  };

  it('refuses RATE_LIMIT_ENABLED=false in production (NODE_ENV unset included), with one line', () => {
    const refusal = new ConfigError('RATE_LIMIT_ENABLED=false is for tests only; production keeps the limits on');
    expect(() => load({ RATE_LIMIT_ENABLED: 'false' })).toThrow(refusal);
    expect(() => load({ NODE_ENV: 'production', RATE_LIMIT_ENABLED: 'false' })).toThrow(refusal);
  });

  it('keeps the limits on in production, and lets tests and development turn them off', () => {
    expect(load({ NODE_ENV: 'production' }).enabled).toBe(true);
    expect(load({ NODE_ENV: 'production', RATE_LIMIT_ENABLED: 'true' }).enabled).toBe(true);
    expect(load({ NODE_ENV: 'test', RATE_LIMIT_ENABLED: 'false' }).enabled).toBe(false);
    expect(load({ NODE_ENV: 'development', RATE_LIMIT_ENABLED: 'false' }).enabled).toBe(false);
  });
});

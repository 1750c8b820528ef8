import { ConfigError } from './env';
import { oidcConfig } from './oidc.config';

describe('oidc config: external identity providers', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });
  const load = (vars: Record<string, string>) => {
    process.env = { NODE_ENV: 'production', ...vars };
    return oidcConfig();
  };
  const google = {
    OIDC_PROVIDERS: 'Google',
    OIDC_GOOGLE_ISSUER: 'https://accounts.google.com',
    OIDC_GOOGLE_CLIENT_ID: 'client-id.apps.googleusercontent.com',
    OIDC_GOOGLE_CLIENT_SECRET: 'a-real-looking-secret-3f9a7c',
  };

  it('has no providers and no redirect targets by default', () => {
    expect(load({})).toEqual({ providers: [], redirectAllowlist: [] });
  });

  it('reads each provider from OIDC_<ID>_*, with default scopes and label', () => {
    const [provider] = load(google).providers;
    expect(provider).toMatchObject({ id: 'google', clientId: 'client-id.apps.googleusercontent.com', scopes: 'openid email profile', label: 'Google' });
    expect(provider.issuer.href).toBe('https://accounts.google.com/');
    expect(load({ ...google, OIDC_GOOGLE_LABEL: 'Google Workspace', OIDC_GOOGLE_SCOPES: 'openid email' }).providers[0]).toMatchObject({ label: 'Google Workspace', scopes: 'openid email' });
  });

  it.each([
    [{ OIDC_GOOGLE_ISSUER: '' }, /^OIDC_GOOGLE_ISSUER is required$/],
    [{ OIDC_GOOGLE_CLIENT_ID: '' }, /^OIDC_GOOGLE_CLIENT_ID is required because OIDC_PROVIDERS names "google"$/],
    [{ OIDC_GOOGLE_CLIENT_SECRET: '' }, /^OIDC_GOOGLE_CLIENT_SECRET is required/],
    [{ OIDC_GOOGLE_CLIENT_SECRET: 'change-me' }, /^OIDC_GOOGLE_CLIENT_SECRET still holds a placeholder value/],
    [{ OIDC_GOOGLE_ISSUER: 'http://accounts.google.com' }, /^OIDC_GOOGLE_ISSUER must use one of: https$/],
    [{ OIDC_GOOGLE_SCOPES: 'openid profile' }, /^OIDC_GOOGLE_SCOPES must include openid and email/],
    [{ OIDC_PROVIDERS: 'google,google' }, /^OIDC_PROVIDERS names "google" twice$/],
    [{ OIDC_PROVIDERS: 'go-ogle' }, /^OIDC_PROVIDERS must list ids of letters and digits/],
  ])('stops the start with one line naming the variable (%o)', (change, message) => {
    expect(() => load({ ...google, ...change })).toThrow(ConfigError);
    expect(() => load({ ...google, ...change })).toThrow(message);
  });

  it('allows an http issuer outside production only (a local Keycloak, the tests)', () => {
    expect(load({ ...google, NODE_ENV: 'development', OIDC_GOOGLE_ISSUER: 'http://127.0.0.1:8080/realms/dev' }).providers[0].issuer.protocol).toBe('http:');
  });

  it('keeps redirect targets as written, for exact comparison', () => {
    const targets = 'https://app.example/callback, com.example.app:/oauth ,http://127.0.0.1:8765/cb';
    expect(load({ OIDC_REDIRECT_ALLOWLIST: targets }).redirectAllowlist).toEqual(['https://app.example/callback', 'com.example.app:/oauth', 'http://127.0.0.1:8765/cb']);
  });

  it.each([
    ['not a URL', /not an absolute URL/],
    ['https://app.example/cb#frag', /may not carry a fragment/],
    ['http://app.example/cb', /must use https in production/],
    ['javascript:alert(1)', /may not use javascript:/],
  ])('refuses %s in OIDC_REDIRECT_ALLOWLIST', (entry, message) => {
    expect(() => load({ OIDC_REDIRECT_ALLOWLIST: entry })).toThrow(message);
  });
});

import { registerAs } from '@nestjs/config';
import { ConfigError, Env } from './env';

/** One external OpenID Provider (SPEC §12), from `OIDC_<ID>_*`. */
export interface OidcProviderSettings {
  /** Lowercase, as in the URLs: `/auth/oidc/<id>`. */
  id: string;
  issuer: URL;
  clientId: string;
  clientSecret: string;
  scopes: string;
  /** The button text's name: "Continue with <label>". */
  label: string;
}

const PROVIDER_ID = /^[a-z][a-z0-9]{0,31}$/;

/** Exact redirect targets of API consumers: https, a private-use scheme (`com.example.app:/cb`) or a loopback http address. */
function redirectTarget(env: Env, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`OIDC_REDIRECT_ALLOWLIST holds an entry that is not an absolute URL: "${raw}"`);
  }
  if (url.hash || raw.includes('#')) throw new ConfigError(`OIDC_REDIRECT_ALLOWLIST entries may not carry a fragment: "${raw}"`);
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol === 'http:' && env.isProduction && !loopback) {
    throw new ConfigError(`OIDC_REDIRECT_ALLOWLIST entries must use https in production (a loopback address may use http): "${raw}"`);
  }
  if (['javascript:', 'data:', 'file:', 'vbscript:'].includes(url.protocol)) {
    throw new ConfigError(`OIDC_REDIRECT_ALLOWLIST entries may not use ${url.protocol}: "${raw}"`);
  }
  return raw;
}

export const oidcConfig = registerAs('oidc', () => {
  const env = new Env();
  const ids = env.list('OIDC_PROVIDERS').map((id) => id.toLowerCase());
  const seen = new Set<string>();
  const providers = ids.map((id): OidcProviderSettings => {
    if (!PROVIDER_ID.test(id)) throw new ConfigError(`OIDC_PROVIDERS must list ids of letters and digits, starting with a letter (got "${id}")`);
    if (seen.has(id)) throw new ConfigError(`OIDC_PROVIDERS names "${id}" twice`);
    seen.add(id);
    const prefix = `OIDC_${id.toUpperCase()}`;
    const required = (name: string) => {
      const value = env.optionalString(name);
      if (value === undefined) throw new ConfigError(`${name} is required because OIDC_PROVIDERS names "${id}"`);
      return value;
    };
    // Outside production an http issuer is allowed (a local Keycloak, the tests' provider).
    const issuer = env.url(`${prefix}_ISSUER`, undefined, env.isProduction ? ['https'] : ['http', 'https']);
    const clientSecret = required(`${prefix}_CLIENT_SECRET`);
    env.refusePublished(`${prefix}_CLIENT_SECRET`, clientSecret);
    const scopes = env.string(`${prefix}_SCOPES`, 'openid email profile');
    const scopeList = scopes.split(/\s+/);
    if (!scopeList.includes('openid') || !scopeList.includes('email')) {
      throw new ConfigError(`${prefix}_SCOPES must include openid and email (got "${scopes}")`);
    }
    return {
      id,
      issuer,
      clientId: required(`${prefix}_CLIENT_ID`),
      clientSecret,
      scopes,
      label: env.string(`${prefix}_LABEL`, id.charAt(0).toUpperCase() + id.slice(1)),
    };
  });
  return {
    providers,
    /** API consumers' redirect targets, compared whole and exactly (never by prefix). */
    redirectAllowlist: env.list('OIDC_REDIRECT_ALLOWLIST').map((raw) => redirectTarget(env, raw)),
  };
});

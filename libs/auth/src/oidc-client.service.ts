import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import * as client from 'openid-client';
import { oidcConfig, type OidcProviderSettings } from '@accounts/config';
import { OidcProviderUnavailableError, OidcSignInFailedError, UnknownOidcProviderError } from './oidc.errors';

/** Every call to a provider gives up after this long (discovery, JWKS, token endpoint). */
const REQUEST_TIMEOUT_SECONDS = 5;
/** Provider metadata is discovered again after this long... */
const METADATA_TTL_MS = 60 * 60 * 1000;
/** ...and while the provider cannot be reached, the last metadata keeps serving for this long. */
const METADATA_STALE_MS = 24 * 60 * 60 * 1000;

/** What a provider asserted about the person who signed in, after the ID token was verified. */
export interface ProviderClaims {
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/** What a sign-in must remember between leaving for the provider and coming back. */
export interface AuthorizationChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

interface Discovered {
  config: client.Configuration;
  fetchedAt: number;
}

/**
 * The OpenID Connect relying party, on `openid-client` (certified): discovery from the issuer
 * (cached, refreshed hourly, the last good metadata kept while the provider is unreachable), the
 * authorization code flow with PKCE S256, `state` and `nonce`, and ID-token validation by the
 * library, signature included. Every call to a provider has a timeout: an unreachable or hung
 * provider becomes OidcProviderUnavailableError within seconds.
 */
@Injectable()
export class OidcClient {
  private readonly logger = new Logger('OidcClient');
  private readonly discovered = new Map<string, Discovered>();
  /** One discovery at a time per provider: parallel sign-ins wait for the same one. */
  private readonly pending = new Map<string, Promise<client.Configuration>>();

  constructor(@Inject(oidcConfig.KEY) private readonly config: ConfigType<typeof oidcConfig>) {}

  /** The configured providers, in configuration order. */
  get providers(): ReadonlyArray<Pick<OidcProviderSettings, 'id' | 'label'>> {
    return this.config.providers.map(({ id, label }) => ({ id, label }));
  }

  /** Throws UnknownOidcProviderError unless `id` names a configured provider. */
  provider(id: string): OidcProviderSettings {
    const found = this.config.providers.find((provider) => provider.id === id);
    if (!found) throw new UnknownOidcProviderError();
    return found;
  }

  /** The configured provider whose issuer this is (an identity's), if any. */
  providerOf(issuer: string): Pick<OidcProviderSettings, 'id' | 'label'> | undefined {
    const bare = (url: string) => url.replace(/\/+$/, '');
    const found = this.config.providers.find((provider) => bare(provider.issuer.href) === bare(issuer));
    return found && { id: found.id, label: found.label };
  }

  /** Fresh random values for one sign-in. */
  newChecks(): AuthorizationChecks {
    return { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
  }

  /** Where to send the browser to sign in at `providerId`. */
  async authorizationUrl(providerId: string, redirectUri: string, checks: AuthorizationChecks): Promise<URL> {
    const provider = this.provider(providerId);
    const config = await this.configuration(provider);
    return client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: provider.scopes,
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
      state: checks.state,
      nonce: checks.nonce,
    });
  }

  /**
   * Completes a sign-in from the URL the provider sent the browser back to: checks `state`,
   * redeems the code with the PKCE verifier, and verifies the ID token (signature, `iss`, `aud`,
   * `exp`, `nonce`). Throws OidcSignInFailedError (refused, tampered, invalid) or
   * OidcProviderUnavailableError.
   */
  async complete(providerId: string, callbackUrl: URL, checks: AuthorizationChecks): Promise<ProviderClaims> {
    const provider = this.provider(providerId);
    const config = await this.configuration(provider);
    let claims: client.IDToken | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (error) {
      throw this.classify(provider, error);
    }
    if (!claims) throw new OidcSignInFailedError('invalid_response');
    return {
      issuer: claims.iss,
      subject: claims.sub,
      email: typeof claims.email === 'string' ? claims.email : null,
      // Only a JSON true counts; some providers send the string "true", which we do not guess about.
      emailVerified: claims.email_verified === true,
      name: typeof claims.name === 'string' ? claims.name : null,
    };
  }

  private async configuration(provider: OidcProviderSettings): Promise<client.Configuration> {
    const cached = this.discovered.get(provider.id);
    const age = cached ? Date.now() - cached.fetchedAt : Infinity;
    if (cached && age < METADATA_TTL_MS) return cached.config;
    try {
      return await this.discover(provider);
    } catch (error) {
      if (cached && age < METADATA_STALE_MS) {
        this.logger.warn(`Discovery at ${provider.id} failed; using metadata from ${Math.round(age / 60_000)} minutes ago`);
        return cached.config;
      }
      // Unreachable, hung, or answering with something that is not an OpenID Provider's metadata.
      this.logger.warn(`Discovery at ${provider.id} failed (${error instanceof Error ? error.name : 'error'})`);
      throw new OidcProviderUnavailableError();
    }
  }

  private discover(provider: OidcProviderSettings): Promise<client.Configuration> {
    let running = this.pending.get(provider.id);
    if (!running) {
      running = client
        .discovery(provider.issuer, provider.clientId, provider.clientSecret, client.ClientSecretPost(provider.clientSecret), {
          timeout: REQUEST_TIMEOUT_SECONDS,
          // Signatures of ID tokens from the token endpoint are verified too, not only trusted for TLS.
          execute: [
            client.enableNonRepudiationChecks,
            // Only reachable outside production: the config refuses http issuers there.
            ...(provider.issuer.protocol === 'http:' ? [client.allowInsecureRequests] : []),
          ],
        })
        .then((config) => {
          this.discovered.set(provider.id, { config, fetchedAt: Date.now() });
          return config;
        })
        .finally(() => this.pending.delete(provider.id));
      this.pending.set(provider.id, running);
    }
    return running;
  }

  /** Unreachable, hung or failing (5xx) providers are "unavailable"; everything else failed the sign-in. */
  private classify(provider: OidcProviderSettings, error: unknown): Error {
    if (error instanceof OidcProviderUnavailableError || error instanceof OidcSignInFailedError) return error;
    if (error instanceof client.AuthorizationResponseError) {
      // The provider sent the browser back with an error (the user declined, or it refused us).
      return new OidcSignInFailedError(error.error === 'access_denied' ? 'access_denied' : 'provider_error');
    }
    const unreachable =
      error instanceof TypeError ||
      (error instanceof client.ClientError && error.code === 'OAUTH_TIMEOUT') ||
      (error instanceof client.ResponseBodyError && error.status >= 500) ||
      (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'));
    if (unreachable) {
      this.logger.warn(`Identity provider ${provider.id} is unavailable (${error instanceof Error ? error.name : 'error'})`);
      return new OidcProviderUnavailableError();
    }
    this.logger.warn(`Sign-in at ${provider.id} failed: ${error instanceof Error ? `${error.name} ${(error as { code?: string }).code ?? ''}` : 'error'}`);
    return new OidcSignInFailedError('invalid_response');
  }
}

import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { appConfig, oidcConfig } from '@accounts/config';
import { generateSecretToken, hashSecretToken, InvalidTokenError } from '@accounts/tokens';
import { User } from '@accounts/users';
import { AuthService, type SignedIn } from './auth.service';
import { IdentitiesService } from './identities.service';
import { OidcClient } from './oidc-client.service';
import { OidcProviderUnavailableError, OidcSignInFailedError, PkceRequiredError, RedirectUriNotAllowedError } from './oidc.errors';
import { answersS256Challenge } from './pkce.util';
import { SecurityEvents } from './security-events.service';
import type { SessionMeta } from './session-meta.util';

/** How long a sign-in may stay at the provider (and the browser's binding cookie lives). */
export const OIDC_FLOW_TTL_SECONDS = 600;
/** How long an API consumer has to exchange its one-time code. */
const EXCHANGE_CODE_TTL = '60 seconds';
const BROWSER_SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface StartedSignIn {
  /** The provider's authorization endpoint, with our request. */
  url: URL;
  /** The browser's binding secret, to be kept in its cookie until the callback. */
  browserSecret: string;
}

/** Where a callback ends: a browser session, or a redirect back to an API consumer. */
export type FinishedSignIn = { signedIn: SignedIn } | { redirectTo: string };

export interface ApiConsumerRequest {
  redirectUri: string;
  /** The consumer's own value, handed back with the code (validated at the edge). */
  state?: string;
  /** The consumer's PKCE S256 challenge (validated at the edge); its verifier redeems the code. */
  codeChallenge?: string;
}

/** What an API consumer brings to redeem its one-time code. */
export interface CodeExchange {
  code: string;
  /** Required exactly when the flow was started with a code challenge. */
  codeVerifier?: string;
  /** Optional; when given, it must be the redirect URI the flow named. */
  redirectUri?: string;
}

interface FlowRow {
  code_verifier: string;
  nonce: string;
  redirect_uri: string | null;
  client_state: string | null;
  client_code_challenge: string | null;
}

interface ExchangeCodeRow {
  user_id: string;
  redirect_uri: string;
  code_challenge: string | null;
}

/**
 * Sign-in through external identity providers (SPEC §12), from the browser's first redirect to the
 * session. A flow's `state`, PKCE verifier and nonce stay on the server (`oidc_flows`, `state`
 * hashed); the flow is bound to the browser that started it by a secret in a cookie of that browser
 * (hashed here), so a callback URL carried to another browser signs nobody in. Each state is good
 * for one callback. Flows started by an API consumer end in a one-time code (60 s, hashed, single
 * use) delivered only to the redirect URI that flow named; exchanging it opens the session. A
 * consumer that sent a PKCE challenge must prove the code is its own with the verifier; one whose
 * redirect URI is not https must send a challenge, since another app can claim the same scheme.
 * Every sign-in ends in AuthService.signInAs, where a second factor is decided.
 */
@Injectable()
export class OidcSignInService {
  constructor(
    private readonly em: EntityManager,
    private readonly oidc: OidcClient,
    private readonly auth: AuthService,
    private readonly identities: IdentitiesService,
    private readonly events: SecurityEvents,
    @Inject(appConfig.KEY) private readonly app: ConfigType<typeof appConfig>,
    @Inject(oidcConfig.KEY) private readonly config: ConfigType<typeof oidcConfig>,
  ) {}

  /** The one callback of a provider, registered there as the redirect URI. */
  callbackUrl(providerId: string): string {
    return `${this.app.url}/auth/oidc/${providerId}/callback`;
  }

  /**
   * Starts a sign-in at `providerId`: for the browser itself, or for an API consumer (whose
   * redirect URI must be exactly one of OIDC_REDIRECT_ALLOWLIST, and whose `state` comes back with
   * the code, and which must send a PKCE challenge unless that URI is https). `browserSecret` is
   * the browser's binding cookie, reused when present so parallel sign-ins in two tabs both work.
   */
  async start(providerId: string, browserSecret: string | undefined, consumer?: ApiConsumerRequest): Promise<StartedSignIn> {
    if (consumer) {
      // Compared whole, as strings: no prefix, no normalisation an attacker could steer.
      if (!this.config.redirectAllowlist.includes(consumer.redirectUri)) throw new RedirectUriNotAllowedError();
      // A private-use scheme or a loopback port can be claimed by any app on the device (RFC 8252 §8.1).
      if (consumer.codeChallenge === undefined && new URL(consumer.redirectUri).protocol !== 'https:') throw new PkceRequiredError();
    }
    this.oidc.provider(providerId);
    const secret = browserSecret !== undefined && BROWSER_SECRET.test(browserSecret) ? browserSecret : generateSecretToken();
    const checks = this.oidc.newChecks();
    // Discovery first: a provider that is down leaves nothing behind.
    const url = await this.oidc.authorizationUrl(providerId, this.callbackUrl(providerId), checks);
    const connection = this.em.getConnection();
    await connection.execute('delete from oidc_flows where expires_at < now()');
    await connection.execute(
      `insert into oidc_flows (state_hash, provider, browser_hash, code_verifier, nonce, redirect_uri, client_state, client_code_challenge, expires_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, now() + make_interval(secs => ?))`,
      [
        hashSecretToken(checks.state),
        providerId,
        hashSecretToken(secret),
        checks.codeVerifier,
        checks.nonce,
        consumer?.redirectUri ?? null,
        consumer?.state ?? null,
        consumer?.codeChallenge ?? null,
        OIDC_FLOW_TTL_SECONDS,
      ],
    );
    return { url, browserSecret: secret };
  }

  /**
   * Ends a sign-in at the URL the provider sent the browser back to. Throws OidcSignInFailedError
   * ('invalid_state') for a callback this browser did not start (or a second use of one), and for
   * browser flows any other failure too; an API consumer's flow is told of failures on its
   * redirect URI (`?error=<reason>`), like OAuth clients are.
   */
  async finish(providerId: string, callbackUrl: URL, browserSecret: string | undefined, meta: SessionMeta): Promise<FinishedSignIn> {
    const provider = this.oidc.provider(providerId);
    const state = callbackUrl.searchParams.get('state');
    if (!state || browserSecret === undefined || !BROWSER_SECRET.test(browserSecret)) throw this.failed(new OidcSignInFailedError('invalid_state'));
    // Spent whatever comes next: a state answers one callback.
    const rows: FlowRow[] = await this.em.getConnection().execute(
      `delete from oidc_flows where state_hash = ? and provider = ? and browser_hash = ? and expires_at > now()
        returning code_verifier, nonce, redirect_uri, client_state, client_code_challenge`,
      [hashSecretToken(state), providerId, hashSecretToken(browserSecret)],
    );
    if (rows.length === 0) throw this.failed(new OidcSignInFailedError('invalid_state'));
    const flow = rows[0];
    try {
      const claims = await this.oidc.complete(providerId, callbackUrl, { state, nonce: flow.nonce, codeVerifier: flow.code_verifier });
      const { user } = await this.identities.join(claims, provider.label, meta);
      if (flow.redirect_uri === null) return { signedIn: await this.auth.signInAs(user, meta, undefined, 'provider') };
      const code = generateSecretToken();
      await this.em.getConnection().execute('delete from oidc_exchange_codes where expires_at < now()');
      await this.em.getConnection().execute(
        `insert into oidc_exchange_codes (code_hash, user_id, provider, redirect_uri, code_challenge, expires_at)
         values (?, ?, ?, ?, ?, now() + interval '${EXCHANGE_CODE_TTL}')`,
        [hashSecretToken(code), user.id, providerId, flow.redirect_uri, flow.client_code_challenge],
      );
      return { redirectTo: this.consumerRedirect(flow, { code }) };
    } catch (error) {
      if (flow.redirect_uri === null) throw this.failed(error);
      if (error instanceof OidcSignInFailedError) return { redirectTo: this.consumerRedirect(flow, { error: this.failed(error).reason }) };
      if (error instanceof OidcProviderUnavailableError) return { redirectTo: this.consumerRedirect(flow, { error: 'temporarily_unavailable' }) };
      throw error;
    }
  }

  /**
   * Spends an API consumer's one-time code and opens the session (the login shape; a second factor
   * is asked for like /auth/login would). Unknown, expired and used codes, a missing or wrong PKCE
   * verifier and another redirect URI than the flow's all throw InvalidTokenError alike, and the
   * code is spent by any of them: whoever holds a caught code gets one guess, not sixty seconds.
   */
  async exchange(request: CodeExchange, meta: SessionMeta): Promise<SignedIn> {
    const rows: ExchangeCodeRow[] = await this.em.getConnection().execute(
      'delete from oidc_exchange_codes where code_hash = ? and expires_at > now() returning user_id, redirect_uri, code_challenge',
      [hashSecretToken(request.code)],
    );
    const issued = rows[0];
    const user = issued !== undefined && this.redeems(issued, request) ? await this.em.findOne(User, issued.user_id) : null;
    if (!user) throw new InvalidTokenError();
    return this.auth.signInAs(user, meta, undefined, 'provider');
  }

  private redeems(issued: ExchangeCodeRow, request: CodeExchange): boolean {
    if (request.redirectUri !== undefined && request.redirectUri !== issued.redirect_uri) return false;
    // A verifier for a flow started without a challenge is refused too (no PKCE downgrade, RFC 9700 §2.1.1).
    if (issued.code_challenge === null) return request.codeVerifier === undefined;
    return request.codeVerifier !== undefined && answersS256Challenge(request.codeVerifier, issued.code_challenge);
  }

  private consumerRedirect(flow: FlowRow, params: Record<string, string>): string {
    const target = new URL(flow.redirect_uri!);
    for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
    if (flow.client_state !== null) target.searchParams.set('state', flow.client_state);
    return target.href;
  }

  private failed<E>(error: E): E {
    if (error instanceof OidcSignInFailedError && error.reason !== 'email_not_verified') {
      this.events.record('auth.oidc.failed', { reason: error.reason });
    }
    return error;
  }
}

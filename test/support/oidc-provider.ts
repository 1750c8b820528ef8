import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AddressInfo } from 'node:net';
import { freePort } from './private-redis';
import { startStack, type Stack } from './stack';

/** Who signs in at the test provider next (a `sub` of our choosing, and what it asserts). */
export interface TestAccount {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}

/** How the provider misbehaves on the next token response (see oidc-test-provider.mjs). */
export type Tamper = 'none' | 'wrong-aud' | 'wrong-iss' | 'expired' | 'bad-signature' | 'wrong-nonce';

export interface TestClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

/**
 * A real OpenID Provider (the certified `oidc-provider` package) on localhost, in a child process
 * of its own: test/support/oidc-test-provider.mjs. The test says who signs in next and how the
 * provider should misbehave.
 */
export class TestOidcProvider {
  private constructor(
    private readonly child: ChildProcess,
    readonly issuer: string,
    private readonly output: string[],
  ) {}

  static async start(clients: TestClient[]): Promise<TestOidcProvider> {
    const child = spawn(process.execPath, ['--no-warnings', join(__dirname, 'oidc-test-provider.mjs')], {
      env: {
        ...process.env,
        OIDC_TEST_CLIENTS: JSON.stringify(
          clients.map((client) => ({
            client_id: client.clientId,
            client_secret: client.clientSecret,
            redirect_uris: client.redirectUris,
            token_endpoint_auth_method: 'client_secret_post',
          })),
        ),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stderr!.on('data', (chunk) => output.push(String(chunk)));
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the test OpenID Provider exited (${code}): ${output.join('')}`)));
    });
    return new TestOidcProvider(child, (JSON.parse(firstLine) as { issuer: string }).issuer, output);
  }

  /** Who signs in at the next interaction (none: consent is denied), and how the token response is tampered with. */
  async next(options: { account?: TestAccount; deny?: boolean; tamper?: Tamper }): Promise<void> {
    await this.control('/__test/next', options);
  }

  /** From now on the provider accepts connections and never answers (false: it answers again). */
  async hang(hang: boolean): Promise<void> {
    await this.control('/__test/hang', { hang });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill();
    await exited;
  }

  /** What the provider printed to stderr (for a failing test's message). */
  get log(): string {
    return this.output.join('');
  }

  private async control(path: string, body: unknown): Promise<void> {
    const response = await fetch(`${this.issuer}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (response.status !== 204) throw new Error(`test provider ${path} answered ${response.status}`);
  }
}

/** A port that accepts connections and never answers: a provider that hangs before it says anything. */
export async function silentPort(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Just enough browser for the HTTP-level tests: one cookie jar for every localhost port (as
 * browsers keep cookies per host), redirects followed by hand so a test can stop at any hop.
 */
export class MiniBrowser {
  private readonly jar = new Map<string, string>();

  async get(url: string): Promise<Response> {
    const response = await fetch(url, { redirect: 'manual', headers: this.jar.size ? { cookie: this.cookieHeader() } : {} });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (!value || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a))) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return response;
  }

  /**
   * Follows redirects from `url` until one points where `stop` says (returned, not fetched) or a
   * page answers without redirecting (its response is returned).
   */
  async follow(url: string, stop: (location: string) => boolean): Promise<{ stoppedAt?: string; response?: Response }> {
    let current = url;
    for (let hop = 0; hop < 20; hop++) {
      if (stop(current)) return { stoppedAt: current };
      const response = await this.get(current);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { response };
      current = new URL(location, current).href;
    }
    throw new Error(`too many redirects from ${url}`);
  }

  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  setCookie(name: string, value: string): void {
    this.jar.set(name, value);
  }

  cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/**
 * A stack whose one identity provider, `corp` (labelled "Corp SSO"), is a TestOidcProvider on
 * localhost; `env` adds to (or overrides) its configuration. Close both when done.
 */
export async function startStackWithProvider(env: Record<string, string> = {}): Promise<{ stack: Stack; provider: TestOidcProvider; base: string }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const clientSecret = 'test-provider-client-secret';
  const provider = await TestOidcProvider.start([{ clientId: 'accounts', clientSecret, redirectUris: [`${base}/auth/oidc/corp/callback`] }]);
  const stack = await startStack({
    port,
    env: {
      APP_URL: base,
      OIDC_PROVIDERS: 'corp',
      OIDC_CORP_ISSUER: provider.issuer,
      OIDC_CORP_CLIENT_ID: 'accounts',
      OIDC_CORP_CLIENT_SECRET: clientSecret,
      OIDC_CORP_LABEL: 'Corp SSO',
      ...env,
    },
  });
  return { stack, provider, base };
}

import type { SeenResponse } from './openapi-contract';

/** A small JSON client over real HTTP, the way an API consumer talks to us. */
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * Keeps cookies between requests like a browser (the pages' session and CSRF cookies); the JSON
 * API ignores them. An explicit `cookie` header replaces the jar for that request.
 */
export class ApiClient {
  private readonly cookies = new Map<string, string>();
  /** Every response this client got, for checking against the OpenAPI document (openapi-contract.ts). */
  readonly seen: SeenResponse[] = [];

  constructor(readonly baseUrl: string) {}

  async request<T = any>(
    method: string,
    path: string,
    { body, token, headers = {} }: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(this.cookies.size ? { cookie: this.cookieHeader() } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    this.keepCookies(response.headers.getSetCookie());
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    this.seen.push({ method, url: `${this.baseUrl}${path}`, status: response.status, contentType: response.headers.get('content-type') ?? '', body: parsed });
    return { status: response.status, headers: response.headers, body: parsed as T };
  }

  post<T = any>(path: string, body?: unknown, token?: string) {
    return this.request<T>('POST', `/api/v1${path}`, { body, token });
  }

  get<T = any>(path: string, token?: string) {
    return this.request<T>('GET', `/api/v1${path}`, { token });
  }

  delete<T = any>(path: string, token?: string) {
    return this.request<T>('DELETE', `/api/v1${path}`, { token });
  }

  /**
   * Submits an HTML form the way a browser does, with the CSRF token a page of ours would have
   * rendered into it (unless the fields bring their own `_csrf`).
   */
  async form(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
    // Signed-in forms (the account page's and sign-out) carry a token bound to the session.
    const signedInForm = path.startsWith('/account') || path === '/logout';
    const withCsrf = '_csrf' in fields ? fields : { ...fields, _csrf: await this.csrfToken(signedInForm ? '/account' : '/forgot-password') };
    return this.request('POST', path, {
      body: new URLSearchParams(withCsrf).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
  }

  /**
   * A CSRF token as a form of ours carries it, read from a rendered page: an anonymous page's by
   * default, the account page's (bound to the session) for signed-in forms.
   */
  async csrfToken(from: '/account' | '/forgot-password' = '/forgot-password'): Promise<string> {
    const page = await this.request<string>('GET', from);
    const match = /name="_csrf" value="([^"]+)"/.exec(page.body);
    if (!match) throw new Error(`No CSRF token on ${from}`);
    return match[1];
  }

  /** The Cookie header this client would send, for requests made by other means. */
  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** The value of one cookie this client holds. */
  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  /** Forgets every cookie (a new browser). */
  clearCookies(): void {
    this.cookies.clear();
  }

  private keepCookies(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now()));
      if (!value || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

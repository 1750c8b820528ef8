import { createHash } from 'node:crypto';
import ms from 'ms';
import { PUBLISHED_SECRETS } from './published-secrets';

/** Thrown while reading the environment; its message is the one line an operator sees. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type RuntimeEnv = 'development' | 'test' | 'production';

/**
 * Typed readers over process.env. Every reader names the variable in its error so a bad value
 * stops the process with one clear line.
 */
export class Env {
  constructor(private readonly vars: NodeJS.ProcessEnv = process.env) {}

  /** Unset means production: only an explicit `development` or `test` relaxes the checks (fail closed). */
  get runtime(): RuntimeEnv {
    return this.oneOf('NODE_ENV', ['development', 'test', 'production'] as const, 'production');
  }

  get isProduction(): boolean {
    return this.runtime === 'production';
  }

  raw(name: string): string | undefined {
    const value = this.vars[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    const value = this.raw(name) ?? fallback;
    if (/[\r\n\0]/.test(value)) throw new ConfigError(`${name} must be a single line`);
    return value;
  }

  optionalString(name: string): string | undefined {
    const value = this.raw(name);
    return value === undefined ? undefined : this.string(name, value);
  }

  int(name: string, fallback: number, { min = -Infinity, max = Infinity } = {}): number {
    const raw = this.raw(name);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      const range = [min > -Infinity ? `>= ${min}` : '', max < Infinity ? `<= ${max}` : '']
        .filter(Boolean)
        .join(' and ');
      throw new ConfigError(`${name} must be an integer${range ? ` ${range}` : ''} (got "${raw}")`);
    }
    return value;
  }

  optionalInt(name: string, bounds: { min?: number; max?: number } = {}): number | undefined {
    return this.raw(name) === undefined ? undefined : this.int(name, 0, bounds);
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    throw new ConfigError(`${name} must be true or false (got "${raw}")`);
  }

  /** A duration such as `900s`, `15m`, `24h` or `30d`, returned in milliseconds. */
  duration(name: string, fallback: string): number {
    const raw = this.raw(name) ?? fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : ms(raw as ms.StringValue);
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new ConfigError(`${name} must be a duration such as 15m, 24h or 30d (got "${raw}")`);
    }
    return value;
  }

  url(name: string, fallback: string | undefined, protocols: string[]): URL {
    const raw = this.raw(name) ?? fallback;
    if (raw === undefined) throw new ConfigError(`${name} is required`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(`${name} must be a URL (${protocols.join(', ')})`);
    }
    if (!protocols.includes(url.protocol.replace(/:$/, ''))) {
      throw new ConfigError(`${name} must use one of: ${protocols.join(', ')}`);
    }
    return url;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.raw(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
    }
    return raw as T;
  }

  list(name: string): string[] {
    return (this.raw(name) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  }

  /**
   * A key that production must set. Outside production a missing key is replaced by `fallback()`
   * and `warn` is told why.
   */
  secret(name: string, fallback: () => Buffer, parse: (raw: string) => Buffer, warn: (line: string) => void): Buffer {
    const raw = this.raw(name);
    if (raw === undefined) {
      if (this.isProduction) {
        const why = this.raw('NODE_ENV') === undefined ? ' (NODE_ENV is unset, which means production; npm start sets development)' : '';
        throw new ConfigError(`${name} is required in production${why}`);
      }
      warn(`${name} is not set; using a development-only value. Set it before production.`);
      return fallback();
    }
    this.refusePublished(name, raw);
    const value = parse(raw);
    // The same key written differently (base64 without padding, say) is still the published key;
    // fallback() is the development key, which anyone can derive from the source.
    if (this.isProduction && [...PUBLISHED_SECRETS.flatMap((known) => parsedOrNothing(parse, known)), fallback()].some((known) => known.equals(value))) {
      throw publishedError(name);
    }
    return value;
  }

  /**
   * Production refuses a secret that is a placeholder or a value published in this repository
   * (see published-secrets.ts): anyone who has read the repository knows it.
   */
  refusePublished(name: string, raw: string): void {
    if (!this.isProduction) return;
    if (PUBLISHED_SECRETS.includes(raw)) throw publishedError(name);
    if (PLACEHOLDERS.some((p) => raw.toLowerCase().includes(p))) {
      throw new ConfigError(`${name} still holds a placeholder value; generate a real secret`);
    }
  }
}

const PLACEHOLDERS = ['change-me', 'changeme', 'replace-me', 'secret-here', 'development-only', 'example'];

function publishedError(name: string): ConfigError {
  return new ConfigError(`${name} holds a value published in this repository; generate your own (openssl rand -base64 32)`);
}

function parsedOrNothing(parse: (raw: string) => Buffer, raw: string): Buffer[] {
  try {
    return [parse(raw)];
  } catch {
    return [];
  }
}

/** A stable key for development so the api and worker, started apart, agree without setup. */
export function developmentKey(purpose: string): Buffer {
  return createHash('sha256').update(`accounts development-only ${purpose}`).digest();
}

/** A URL with its password masked, for messages and logs. */
export function redactUrl(url: string | URL): string {
  try {
    const copy = new URL(url.toString());
    if (copy.password) copy.password = '***';
    return copy.toString();
  } catch {
    return '(unparseable URL)';
  }
}

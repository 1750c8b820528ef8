import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { MikroORM } from '@mikro-orm/postgresql';
import Redis from 'ioredis';
import { redactUrl } from '../../libs/config/src/env';
import { ormOptions } from '../../libs/database/src/orm.options';

/** Where the browser tests look for Chromium, unless CHROMIUM_PATH says otherwise. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';
/** Where the MFA tests look for oathtool, unless OATHTOOL_PATH says otherwise. */
export const DEFAULT_OATHTOOL_PATH = '/usr/bin/oathtool';

export interface Prerequisites {
  databaseUrl: string;
  redisUrl: string;
  chromiumPath?: string;
  /** Debian's oathtool, the MFA suites' independent TOTP implementation (OATHTOOL_PATH). */
  oathtoolPath?: string;
  /** PATH to look for redis-server on. */
  path?: string;
}

export interface MissingPrerequisite {
  /** One line: what is missing and how to get it. */
  line: string;
  /** Every end-to-end suite needs it; without it, running the tests makes no sense. */
  fatal: boolean;
}

const CONNECT_TIMEOUT_MS = 3_000;

/** What `npm test` needs and this machine lacks, each with the command that installs or starts it. */
export async function missingPrerequisites({ databaseUrl, redisUrl, chromiumPath, oathtoolPath, path = process.env.PATH }: Prerequisites): Promise<MissingPrerequisite[]> {
  const [database, redis] = await Promise.all([postgresProblem(databaseUrl), redisProblem(redisUrl)]);
  const missing: MissingPrerequisite[] = [];
  if (database) {
    missing.push({
      fatal: true,
      line: `PostgreSQL at ${redactUrl(databaseUrl)} (TEST_DATABASE_URL): ${database}; start it (docker compose up -d postgres, or sudo apt-get install postgresql) or set TEST_DATABASE_URL`,
    });
  }
  if (redis) {
    missing.push({
      fatal: true,
      line: `Redis at ${redactUrl(redisUrl)} (TEST_REDIS_URL): ${redis}; start it (docker compose up -d redis, or sudo apt-get install redis-server) or set TEST_REDIS_URL`,
    });
  }
  const redisServer = spawnSync('redis-server', ['--version'], { env: { ...process.env, PATH: path }, stdio: 'ignore' });
  if (redisServer.error) {
    missing.push({
      fatal: false,
      line: 'redis-server is not on PATH (the Redis fault, rate-limit, outbox and metrics suites start their own): sudo apt-get install redis-server (macOS: brew install redis)',
    });
  }
  const chromium = chromiumPath ?? DEFAULT_CHROMIUM_PATH;
  if (!executable(chromium)) {
    missing.push({
      fatal: false,
      line: `no Chromium at ${chromium} (the browser suite drives it): sudo apt-get install chromium, or set CHROMIUM_PATH to a Chromium or Chrome binary`,
    });
  }
  const oathtool = oathtoolPath ?? DEFAULT_OATHTOOL_PATH;
  if (!executable(oathtool)) {
    missing.push({
      fatal: false,
      line: `no oathtool at ${oathtool} (the MFA suites check TOTP codes with it): sudo apt-get install oathtool, or set OATHTOOL_PATH`,
    });
  }
  return missing;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Connects to the server's maintenance database: the test database itself may not exist yet. */
async function postgresProblem(url: string): Promise<string | undefined> {
  let server: URL;
  try {
    server = new URL(url);
  } catch {
    return 'not a URL';
  }
  server.pathname = '/postgres';
  const orm = await MikroORM.init(ormOptions(server.toString(), { connect: false, debug: false, driverOptions: { connection: { connectionTimeoutMillis: CONNECT_TIMEOUT_MS } } }));
  try {
    const check = await orm.checkConnection();
    return check.ok ? undefined : reason(check.error ?? check.reason);
  } finally {
    await orm.close(true);
  }
}

async function redisProblem(url: string): Promise<string | undefined> {
  let redis: Redis;
  try {
    redis = new Redis(url, { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  } catch (error) {
    return reason(error);
  }
  // connect() rejects with "Connection is closed"; the cause came as an 'error' event.
  let cause: unknown;
  redis.on('error', (error) => (cause ??= error));
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return reason(cause ?? error);
  } finally {
    // After a failed connect the stream is gone; disconnect() would leave a 2 s timer behind.
    if (redis.status !== 'end') redis.disconnect();
  }
}

function reason(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  return code === 'ECONNREFUSED' ? 'nothing listens there' : (message ?? String(error)).split('\n')[0];
}

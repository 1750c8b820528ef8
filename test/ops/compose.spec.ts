import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, databaseConfig, validateConfig, type ConfigProcess } from '@accounts/config';
import { PUBLISHED_SECRETS } from '../../libs/config/src/published-secrets';
import { API_CONFIG } from '../../apps/api/src/api.module';
import { MAIL_WORKER_CONFIG } from '../../apps/mail-worker/src/mail-worker.module';
import { waitUntil } from '../support/polling';
import { freePort } from '../support/private-redis';
import { startStack, type Stack } from '../support/stack';

const ROOT = join(__dirname, '..', '..');

/** The V8 heap settings of the apps (test/ops/node-options.spec.ts checks every copy of them). */
const { NODE_OPTIONS } = require('../../scripts/node-options.js') as { NODE_OPTIONS: { api: string; worker: string } };

/** `npm run compose:secrets`: what it writes is what compose interpolates. */
const composeSecrets = require('../../scripts/compose-secrets.js') as {
  generateSecrets(env?: Record<string, string>): Record<string, string>;
  writeSecretsFile(file: string, values: Record<string, string>, options?: { force?: boolean }): void;
};

interface Service {
  image?: string;
  build?: unknown;
  pull_policy?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  container_name?: string;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service> };
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

/** The built entries the image can run, by the process whose configuration they read. */
const ENTRIES: Record<string, { process: ConfigProcess; namespaces: Parameters<typeof validateConfig>[0] }> = {
  'dist/apps/api/apps/api/src/main.js': { process: 'api', namespaces: API_CONFIG },
  'dist/apps/api/apps/api/src/migrate.js': { process: 'api', namespaces: [databaseConfig] },
  'dist/apps/mail-worker/apps/mail-worker/src/main.js': { process: 'worker', namespaces: MAIL_WORKER_CONFIG },
};

/** `dist/apps/<app>/apps/<app>/src/x.js` is what `nest build <app>` makes of `apps/<app>/src/x.ts`. */
function sourceOf(entry: string): string {
  const match = /^dist\/apps\/([\w-]+)\/(apps\/\1\/src\/.+)\.js$/.exec(entry);
  if (!match) throw new Error(`${entry} is not where nest build puts an app's output`);
  return `${match[2]}.ts`;
}

/** Our processes: the services that run a node entry of our image. */
const appServices = Object.entries(compose.services).filter(([, service]) => service.command?.[0] === 'node');
/** What compose reads from the .env that `npm run compose:secrets` writes. */
const secrets: Record<string, string> = composeSecrets.generateSecrets({});

/** Compose's interpolation of `${NAME}`, `${NAME:-default}` and `${NAME:?error}` (and `$$`). */
function interpolate(value: string, vars: Record<string, string> = secrets): string {
  return value
    .replace(/\$\{([A-Z][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}/g, (_, name: string, operator: string | undefined, argument: string) => {
      if (vars[name]) return vars[name];
      if (operator === ':-') return argument;
      throw new Error(`compose would stop: ${name} is not set (${argument ?? 'no default'})`);
    })
    .replace(/\$\$/g, '$');
}

const environmentOf = (service: Service, vars?: Record<string, string>) =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([key, value]) => [key, interpolate(String(value), vars)]));
/** `${NAME:?message}`: compose refuses to start without NAME, and the file holds no value of its own. */
const REQUIRED = /^\$\{[A-Z][A-Z0-9_]*:\?[^}]+\}$/;
const SECRET_VARIABLES = ['JWT_SECRET', 'PAYLOAD_KEY', 'MFA_KEY', 'ADMIN_PASSWORD', 'POSTGRES_PASSWORD', 'REDISCLI_AUTH'];

describe('ops: docker-compose.yml', () => {
  it('runs only real build entries of our image, whose sources exist', () => {
    expect(appServices.map(([name]) => name).sort()).toEqual(['api', 'mail-worker', 'migrate']);
    const heapSettings: Record<string, string[]> = { api: NODE_OPTIONS.api.split(' '), 'mail-worker': NODE_OPTIONS.worker.split(' '), migrate: [] };
    for (const [name, service] of appServices) {
      const [binary, ...args] = service.command ?? [];
      const entry = args[args.length - 1];
      expect({ name, binary, flags: args.slice(0, -1) }).toEqual({ name, binary: 'node', flags: heapSettings[name] });
      expect({ name, entry, known: entry in ENTRIES }).toEqual({ name, entry, known: true });
      expect({ name, source: sourceOf(entry), exists: existsSync(join(ROOT, sourceOf(entry))) }).toMatchObject({ exists: true });
    }
    // npm start:api / start:worker run the same command lines.
    expect(packageJson.scripts['start:api']).toBe(compose.services.api.command!.join(' '));
    expect(packageJson.scripts['start:worker']).toBe(compose.services['mail-worker'].command!.join(' '));
  });

  it('sets only variables the service process reads, and a configuration that process accepts', () => {
    const known = new Map(CONFIG_VARIABLES.map((variable) => [variable.name, variable]));
    const saved = { ...process.env };
    try {
      for (const [name, service] of appServices) {
        const { process: reader, namespaces } = ENTRIES[service.command![service.command!.length - 1]];
        const environment = environmentOf(service);
        for (const variable of Object.keys(environment)) {
          const entry = known.get(variable);
          expect({ service: name, variable, known: Boolean(entry) }).toEqual({ service: name, variable, known: true });
          expect({ service: name, variable, readBy: entry?.processes }).toEqual({ service: name, variable, readBy: expect.arrayContaining([reader]) });
        }
        // Only what the file sets (plus defaults): production must accept it as it is.
        process.env = { ...environment };
        expect(() => validateConfig(namespaces)).not.toThrow();
      }
    } finally {
      process.env = saved;
    }
  });

  it('writes no secret: each comes from the environment or the generated .env, and compose stops without it', () => {
    for (const published of PUBLISHED_SECRETS) expect(composeText).not.toContain(published);
    const raw = Object.entries(compose.services).flatMap(([name, service]) =>
      Object.entries(service.environment ?? {}).map(([variable, value]) => ({ service: name, variable, value: String(value) })),
    );
    const secretValues = raw.filter(({ variable }) => SECRET_VARIABLES.includes(variable));
    expect(secretValues.map(({ service, variable }) => `${service}.${variable}`).sort()).toEqual(
      ['api.ADMIN_PASSWORD', 'api.JWT_SECRET', 'api.MFA_KEY', 'api.PAYLOAD_KEY', 'mail-worker.PAYLOAD_KEY', 'postgres.POSTGRES_PASSWORD', 'redis.REDISCLI_AUTH'],
    );
    for (const entry of secretValues) expect({ ...entry, required: REQUIRED.test(entry.value) }).toMatchObject({ required: true });
    // The passwords inside the connection URLs too.
    const urls = raw.filter(({ variable }) => ['DATABASE_URL', 'REDIS_URL'].includes(variable));
    expect(urls.length).toBeGreaterThanOrEqual(3);
    for (const entry of urls) expect(entry).toMatchObject({ value: expect.stringMatching(/^(postgres|redis):\/\/[^:@/]*:\$\{[A-Z_]+:\?[^}]+\}@/) });
    expect(() => interpolate(String(compose.services.api.environment!.JWT_SECRET), {})).toThrow(/JWT_SECRET is not set \(run npm run compose:secrets\)/);
  });

  it('publishes every port on 127.0.0.1 only, each host port overridable', () => {
    const ports = Object.entries(compose.services).flatMap(([name, service]) => (service.ports ?? []).map((port) => ({ name, port })));
    expect(ports.map(({ name }) => name).sort()).toEqual(expect.arrayContaining(['api', 'mailpit', 'postgres', 'redis']));
    for (const entry of ports) expect(entry).toMatchObject({ port: expect.stringMatching(/^127\.0\.0\.1:\$\{[A-Z][A-Z0-9_]*_PORT:-\d+\}:\d+$/) });
  });

  it('builds our image once and runs it as migrate, api and mail-worker; third-party images are pinned', () => {
    const builders = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);
    expect(builders.map(([name]) => name)).toEqual(['migrate']);
    const image = builders[0][1].image;
    expect(image).toMatch(/^[a-z][\w.-]*:[\w.-]+$/);
    expect(appServices.map(([name, service]) => [name, service.image])).toEqual([
      ['migrate', image],
      ['api', image],
      ['mail-worker', image],
    ]);
    for (const [name, service] of appServices.filter(([, service]) => service.build === undefined)) {
      expect({ name, pull_policy: service.pull_policy }).toEqual({ name, pull_policy: 'never' });
    }
    expect(compose.services.mailpit.image).toMatch(/^axllent\/mailpit:v\d+\.\d+\.\d+$/);
  });

  it('gives Redis a password; its healthcheck logs in with it, and Redis refuses clients without it', async () => {
    const redis = compose.services.redis;
    const command = (redis.command ?? []).map((arg) => interpolate(arg));
    expect(command[command.indexOf('--requirepass') + 1]).toBe(secrets.REDIS_PASSWORD);
    expect(environmentOf(compose.services.api).REDIS_URL).toBe(`redis://:${secrets.REDIS_PASSWORD}@redis:6379`);
    expect(environmentOf(compose.services['mail-worker']).REDIS_URL).toBe(`redis://:${secrets.REDIS_PASSWORD}@redis:6379`);

    // The compose command itself, on a spare port of this machine.
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'compose-redis-'));
    const [binary, ...args] = command;
    const server = spawn(binary, [...args, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], { stdio: 'ignore' });
    const [kind, script] = redis.healthcheck!.test;
    expect(kind).toBe('CMD-SHELL');
    const healthcheck = (password: string | undefined) =>
      spawnSync('sh', ['-c', script.replace('-p 6379', `-p ${port}`)], {
        env: { PATH: process.env.PATH, ...(password === undefined ? {} : { REDISCLI_AUTH: password }) },
      }).status;
    try {
      await waitUntil(() => healthcheck(environmentOf(redis).REDISCLI_AUTH) === 0, 10_000, 'redis-server with the compose command to become healthy');
      expect(healthcheck('a wrong password')).not.toBe(0);
      expect(healthcheck(undefined)).not.toBe(0);
      const anonymous = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'set', 'k', 'v'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
      expect(anonymous.stdout).toMatch(/NOAUTH/);
    } finally {
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets the worker send to Mailpit, which has no STARTTLS, by allowing plaintext explicitly', () => {
    const worker = environmentOf(compose.services['mail-worker']);
    expect(worker).toMatchObject({ NODE_ENV: 'production', SMTP_URL: 'smtp://mailpit:1025', SMTP_ALLOW_PLAINTEXT: 'true' });
  });

  describe('npm run compose:secrets', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'compose-secrets-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const run = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'scripts', 'compose-secrets.js'), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH } });

    it('writes fresh random values, readable by its owner only, and keeps an existing file unless --force', () => {
      const file = join(dir, '.env');
      expect(run('--file', file).status).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const first = readFileSync(file, 'utf8');
      const again = run('--file', file);
      expect(again.status).toBe(1);
      expect(again.stderr).toMatch(/exists; keeping it/);
      expect(readFileSync(file, 'utf8')).toBe(first);

      writeFileSync(file, 'OLD=1\n', { mode: 0o644 });
      expect(run('--file', file, '--force').status).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const second = readFileSync(file, 'utf8');
      expect(second).not.toContain('OLD=1');
      const values = (text: string) => Object.fromEntries(text.split('\n').filter((line) => /^[A-Z]/.test(line)).map((line) => line.split(/=(.*)/s).slice(0, 2)));
      const [a, b] = [values(first), values(second)];
      for (const name of ['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'JWT_SECRET', 'PAYLOAD_KEY', 'MFA_KEY', 'ADMIN_PASSWORD']) {
        expect({ name, set: Boolean(a[name]), fresh: a[name] !== b[name] }).toEqual({ name, set: true, fresh: true });
      }
    });

    it('gives npm start on the host the same passwords and ports that compose publishes', () => {
      const values = composeSecrets.generateSecrets({ POSTGRES_PORT: '55432' });
      expect(values.DATABASE_URL).toBe(`postgres://postgres:${values.POSTGRES_PASSWORD}@127.0.0.1:55432/accounts`);
      expect(values.REDIS_URL).toBe(`redis://:${values.REDIS_PASSWORD}@127.0.0.1:6379`);
      expect(interpolate(compose.services.postgres.ports![0], values)).toBe('127.0.0.1:55432:5432');
      expect(interpolate(compose.services.redis.ports![0], values)).toBe('127.0.0.1:6379:6379');
      expect(values.SMTP_URL).toBe(`smtp://${interpolate(compose.services.mailpit.ports![0], values).split(':').slice(0, 2).join(':')}`);
    });
  });

  it('keeps Redis from evicting keys and lets the worker scale', () => {
    expect(compose.services.redis.command).toEqual(expect.arrayContaining(['--maxmemory-policy', 'noeviction']));
    const worker = compose.services['mail-worker'];
    expect(worker.ports).toBeUndefined();
    expect(worker.container_name).toBeUndefined();
    expect(compose.services.api.depends_on).toMatchObject({ migrate: { condition: 'service_completed_successfully' } });
  });

  it("publishes the API's operators' port on the host's loopback at most", () => {
    const api = compose.services.api;
    const { OPS_PORT: opsPort = '3002', OPS_HOST: opsHost } = environmentOf(api);
    // Inside the compose network it must listen beyond the container's loopback to be reachable at all.
    expect(opsHost).toBe('0.0.0.0');
    const published = (api.ports ?? []).filter((port) => port.split(':').at(-1) === opsPort);
    for (const port of published) expect({ port, loopbackOnly: port.startsWith('127.0.0.1:') }).toEqual({ port, loopbackOnly: true });
  });

  describe('healthchecks', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack();
    });
    afterAll(() => stack?.close());

    /** Runs a service's healthcheck command as Docker would, aimed at this test's stack instead. */
    const runHealthcheck = (test: string[], from: string, to: string) =>
      new Promise<number | null>((resolve) => {
        const [, binary, ...args] = test;
        const child = spawn(binary === 'node' ? process.execPath : binary, args.map((arg) => arg.replace(from, to)), { stdio: 'ignore' });
        child.on('exit', (code) => resolve(code));
      });

    it.each([
      ['api', 'PORT'],
      ['mail-worker', 'WORKER_PORT'],
    ])('%s: asks /health/ready on its own port and passes exactly when the process is ready', async (name, portVariable) => {
      const service = compose.services[name];
      const test = service.healthcheck!.test;
      expect(test[0]).toBe('CMD');
      const port = environmentOf(service)[portVariable];
      const target = `http://127.0.0.1:${port}/health/ready`;
      expect(test.join(' ')).toContain(target);

      const app = name === 'api' ? stack.apiApp : stack.worker!;
      const live = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/health/ready`;
      expect(await runHealthcheck(test, target, live)).toBe(0);
      expect(await runHealthcheck(test, target, 'http://127.0.0.1:9/health/ready')).toBe(1);
    });
  });
});

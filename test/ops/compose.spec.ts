import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, databaseConfig, validateConfig, type ConfigProcess } from '@accounts/config';
import { API_CONFIG } from '../../apps/api/src/api.module';
import { MAIL_WORKER_CONFIG } from '../../apps/mail-worker/src/mail-worker.module';
import { startStack, type Stack } from '../support/stack';

const ROOT = join(__dirname, '..', '..');

interface Service {
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  container_name?: string;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
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

const appServices = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);
const environmentOf = (service: Service) => Object.fromEntries(Object.entries(service.environment ?? {}).map(([key, value]) => [key, String(value)]));

describe('ops: docker-compose.yml', () => {
  it('runs only real build entries of our image, whose sources exist', () => {
    expect(appServices.map(([name]) => name).sort()).toEqual(['api', 'mail-worker', 'migrate']);
    for (const [name, service] of appServices) {
      const [binary, entry, ...rest] = service.command ?? [];
      expect({ name, binary, rest }).toEqual({ name, binary: 'node', rest: [] });
      expect({ name, entry, known: entry in ENTRIES }).toEqual({ name, entry, known: true });
      expect({ name, source: sourceOf(entry), exists: existsSync(join(ROOT, sourceOf(entry))) }).toMatchObject({ exists: true });
    }
    // npm start:api / start:worker run the same entries.
    expect(packageJson.scripts['start:api']).toBe(`node ${compose.services.api.command![1]}`);
    expect(packageJson.scripts['start:worker']).toBe(`node ${compose.services['mail-worker'].command![1]}`);
  });

  it('sets only variables the service process reads, and a configuration that process accepts', () => {
    const known = new Map(CONFIG_VARIABLES.map((variable) => [variable.name, variable]));
    const saved = { ...process.env };
    try {
      for (const [name, service] of appServices) {
        const { process: reader, namespaces } = ENTRIES[service.command![1]];
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

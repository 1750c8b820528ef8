import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The V8 heap settings of the API and the worker live in scripts/node-options.js; package.json and
 * the Dockerfile cannot read it and carry copies, which must say the same.
 */
const ROOT = join(__dirname, '..', '..');
const { NODE_OPTIONS, withNodeOptions } = require('../../scripts/node-options.js') as {
  NODE_OPTIONS: { api: string; worker: string };
  withNodeOptions(app: 'api' | 'worker', env: Record<string, string | undefined>): Record<string, string | undefined>;
};
/** The flags as a command line lists them. */
const quoted = (options: string) => options.split(' ').map((flag) => `"${flag}"`).join(', ');

describe('ops: the V8 heap settings of the apps', () => {
  it("are each app's in package.json start:api and start:worker, the image's command and compose's", () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts['start:api']).toBe(`node ${NODE_OPTIONS.api} dist/apps/api/apps/api/src/main.js`);
    expect(scripts['start:worker']).toBe(`node ${NODE_OPTIONS.worker} dist/apps/mail-worker/apps/mail-worker/src/main.js`);
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtimeStage).toContain(`CMD ["node", ${quoted(NODE_OPTIONS.api)}, "dist/apps/api/apps/api/src/main.js"]`);
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain(`command: ["node", ${quoted(NODE_OPTIONS.api)}, "dist/apps/api/apps/api/src/main.js"]`);
    expect(compose).toContain(`command: ["node", ${quoted(NODE_OPTIONS.worker)}, "dist/apps/mail-worker/apps/mail-worker/src/main.js"]`);
  });

  it('are options Node accepts in NODE_OPTIONS, and a caller’s own NODE_OPTIONS comes after them (and wins)', () => {
    const env = withNodeOptions('worker', { NODE_OPTIONS: '--max-semi-space-size=16' });
    expect(env.NODE_OPTIONS).toBe(`${NODE_OPTIONS.worker} --max-semi-space-size=16`);
    for (const options of Object.values(NODE_OPTIONS)) {
      const run = spawnSync(process.execPath, ['-e', 'process.stdout.write("ok")'], { env: { PATH: process.env.PATH, NODE_OPTIONS: options }, encoding: 'utf8' });
      expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({ status: 0, stdout: 'ok', stderr: '' });
    }
  });
});

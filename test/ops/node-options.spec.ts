import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The V8 heap settings of the API and the worker live in scripts/node-options.js; package.json and
 * the Dockerfile cannot read it and carry copies, which must say the same.
 */
const ROOT = join(__dirname, '..', '..');
const { NODE_OPTIONS, withNodeOptions } = require('../../scripts/node-options.js') as {
  NODE_OPTIONS: string;
  withNodeOptions(env: Record<string, string | undefined>): Record<string, string | undefined>;
};

describe('ops: the V8 heap settings of the apps', () => {
  it('are the same in package.json start:api and start:worker and in the image', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts['start:api']).toBe(`node ${NODE_OPTIONS} dist/apps/api/apps/api/src/main.js`);
    expect(scripts['start:worker']).toBe(`node ${NODE_OPTIONS} dist/apps/mail-worker/apps/mail-worker/src/main.js`);
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtimeStage).toContain(`ENV NODE_OPTIONS="${NODE_OPTIONS}"`);
  });

  it('are options Node accepts in NODE_OPTIONS, and a caller’s own NODE_OPTIONS comes after them (and wins)', () => {
    const env = withNodeOptions({ NODE_OPTIONS: '--max-semi-space-size=8' });
    expect(env.NODE_OPTIONS).toBe(`${NODE_OPTIONS} --max-semi-space-size=8`);
    const run = spawnSync(process.execPath, ['-e', 'process.stdout.write("ok")'], { env: { PATH: process.env.PATH, NODE_OPTIONS }, encoding: 'utf8' });
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({ status: 0, stdout: 'ok', stderr: '' });
  });
});

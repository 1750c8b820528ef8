import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const REGISTER = join(ROOT, 'scripts', 'register-ts.js');
const LOGGING = join(__dirname, 'logging.module.ts');
const LINES = 3000;

/**
 * Runs a process that logs LINES numbered lines through the root logger and then ends as `ending`
 * says, and returns its stdout parsed (every line must be JSON) with its exit status.
 */
function runLogger(ending: string): { status: number | null; lines: Array<Record<string, unknown>> } {
  const script = `
    const { createRootLogger } = require(${JSON.stringify(LOGGING)});
    const logger = createRootLogger('crash-test', 'info');
    for (let i = 0; i < ${LINES}; i++) logger.info({ i }, 'line ' + i + ' ' + 'x'.repeat(40));
    ${ending}
  `;
  const run = spawnSync(process.execPath, ['-r', REGISTER, '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'test' } });
  const lines = run.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { status: run.status, lines };
}

const numbered = (lines: Array<Record<string, unknown>>) => lines.filter((line) => typeof line.i === 'number').map((line) => line.i);
const all = Array.from({ length: LINES }, (_, i) => i);

describe('log destination: batched, and nothing lost on the way out', () => {
  it('writes every line, in order, and the fatal line of an uncaught exception thrown right after them', () => {
    const { status, lines } = runLogger(`throw new Error('boom in the same turn');`);
    expect(status).toBe(1);
    expect(numbered(lines)).toEqual(all);
    expect(lines.at(-1)).toMatchObject({ level: 'fatal', app: 'crash-test', origin: 'uncaughtException', err: { message: 'boom in the same turn' } });
  });

  it('writes every line and the fatal line of an unhandled rejection a few turns later', () => {
    const { status, lines } = runLogger(`setTimeout(() => Promise.reject(new Error('late')), 5);`);
    expect(status).toBe(1);
    expect(numbered(lines)).toEqual(all);
    expect(lines.at(-1)).toMatchObject({ level: 'fatal', origin: 'unhandledRejection', err: { message: 'late' } });
  });

  it('writes every line before a process.exit() in the same turn (the end of a graceful shutdown)', () => {
    const { status, lines } = runLogger(`logger.info('shutting down'); process.exit(0);`);
    expect(status).toBe(0);
    expect(numbered(lines)).toEqual(all);
    expect(lines.at(-1)).toMatchObject({ msg: 'shutting down' });
  });

  it('writes every line on SIGTERM, when the handler exits as Nest’s shutdown hooks do', () => {
    const { status, lines } = runLogger(`
      process.once('SIGTERM', () => { logger.info('terminated'); process.exit(0); });
      setImmediate(() => { logger.info('last before the signal'); process.kill(process.pid, 'SIGTERM'); });
      setInterval(() => undefined, 1000);
    `);
    expect(status).toBe(0);
    expect(numbered(lines)).toEqual(all);
    expect(lines.slice(-2).map((line) => line.msg)).toEqual(['last before the signal', 'terminated']);
  });
});

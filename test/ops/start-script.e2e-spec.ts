import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitUntil } from '../support/polling';
import { freePort } from '../support/private-redis';

const ROOT = join(__dirname, '..', '..');
/** MAIL_SHUTDOWN_TIMEOUT below, plus the time to close the pools and servers. */
const SHUTDOWN_BUDGET_MS = 10_000;

/** Parent of every live process, from /proc (Linux). */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name is in parentheses and may hold spaces: the fields after it are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      map.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return map;
}

function descendantsOf(pid: number): number[] {
  const map = parents();
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of map) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `npm run dev` (and `npm start`, the same script from the build): a supervisor or `kill <pid>`
 * signals only the npm process; every process below it must stop with it.
 */
describe('ops: npm start stops as one', () => {
  let npm: ChildProcess | undefined;
  let tree: number[] = [];

  afterEach(() => {
    // Whatever a failed assertion left behind: only the processes this test started.
    for (const pid of tree) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (npm?.exitCode === null) npm.kill('SIGKILL');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('passes %s from npm to the apps and exits once every process under it is gone', async (signal) => {
    const env = {
      ...process.env,
      PORT: String(await freePort()),
      WORKER_PORT: String(await freePort()),
      QUEUE_PREFIX: `start-script-${process.pid}-${signal}`,
      MAIL_SHUTDOWN_TIMEOUT: '5s',
      LOG_LEVEL: 'info',
    };
    npm = spawn('npm', ['run', 'dev', '--silent'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => npm!.once('exit', (code) => resolve(code)));

    await waitUntil(() => /Listening on/.test(output) && /Taking mail jobs/.test(output), 60_000, "both apps' start-up lines");
    tree = descendantsOf(npm.pid!);
    // npm, then this script, the two watchers and the two apps (plus a shell on some npm versions).
    expect(tree.length).toBeGreaterThanOrEqual(5);

    npm.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), SHUTDOWN_BUDGET_MS)))]);
    clearTimeout(timer);
    expect(code).toBe(0);
    // Every process of the tree is gone, not merely the npm process.
    expect(tree.filter(alive)).toEqual([]);
  }, 90_000);
});

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../../support/polling';
import { answers, freePort } from '../../support/private-redis';

/**
 * A Redis of the test's own that persists every write to an append-only file (as production Redis
 * should), so `crash()` (SIGKILL) and `start()` model a Redis that dies and comes back with its data.
 */
export class DurableRedis {
  private process: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'faults-redis-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<DurableRedis> {
    const redis = new DurableRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.process) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'];
    this.process = spawn('redis-server', args, { stdio: 'ignore' });
    await waitUntil(() => answers(this.port), 10_000, 'redis-server to start');
  }

  /** Kills Redis without warning; what it acknowledged is on disk. */
  async crash(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGKILL');
    });
  }

  async destroy(): Promise<void> {
    await this.crash();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

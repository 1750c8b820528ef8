import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pollUntil } from '../../support/polling';

const ROOT = join(__dirname, '..', '..', '..');
const REGISTER = join(ROOT, 'scripts', 'register-ts.js');
const ENTRY = join(ROOT, 'apps', 'mail-worker', 'src', 'main.ts');
const READY = /Taking mail jobs/;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A mail worker as its own OS process, started from the TypeScript sources, so a test can kill it
 * for real (SIGKILL, SIGTERM). Its environment is the test process's plus `env`.
 */
export class WorkerProcess {
  /** Everything the process wrote, stdout and stderr interleaved. */
  output = '';
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;

  private constructor(readonly name: string, env: Record<string, string>) {
    this.child = spawn(process.execPath, ['-r', REGISTER, ENTRY], {
      cwd: ROOT,
      env: { ...process.env, WORKER_PORT: '0', LOG_LEVEL: 'info', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts a worker and resolves once it takes jobs. */
  static async start(name: string, env: Record<string, string>, timeoutMs = 20_000): Promise<WorkerProcess> {
    const worker = new WorkerProcess(name, env);
    try {
      await worker.waitForOutput(READY, timeoutMs);
    } catch (error) {
      worker.kill('SIGKILL');
      throw error;
    }
    return worker;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Resolves when the output matches `pattern`; rejects if the process exits or time runs out first. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
    await pollUntil(
      () => {
        if (!this.running && !pattern.test(this.output)) throw new Error(`worker ${this.name} exited before printing ${pattern}:\n${this.output.slice(-2000)}`);
        return this.output;
      },
      (output) => pattern.test(output),
      timeoutMs,
      (output) => `worker ${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${output.slice(-2000)}`,
    );
  }

  /** Waits for the exit, at most `timeoutMs`; undefined when it is still running then. */
  async exitWithin(timeoutMs: number): Promise<Exit | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Makes sure the process is gone (test teardown): SIGTERM, then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.kill('SIGTERM');
    if (await this.exitWithin(15_000)) return;
    this.kill('SIGKILL');
    await this.exited;
  }
}

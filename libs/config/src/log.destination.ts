import { writeSync } from 'node:fs';

/**
 * Where the JSON log lines go: file descriptor 1, in batches. A line is added to a buffer; the
 * buffer goes out in one write when the event loop next comes round (setImmediate), or at once when
 * it holds BATCH_BYTES. Writing each line as it came cost a system call and a stream write per line
 * (about 15 % of the CPU of a cheap request); a batch costs one per loop turn, however many
 * requests it served. When stdout is a pipe whose reader lags (EAGAIN), the rest waits in the
 * buffer and is retried a moment later: logging never stalls the event loop.
 *
 * Nothing is lost on the way out: whatever is buffered is written synchronously on 'exit', which
 * Node emits after process.exit(), after a graceful shutdown (SIGTERM, SIGINT: Nest's shutdown
 * hooks end in process.exit) and after an uncaught exception or unhandled rejection, whose fatal
 * line is logged first (see logUncaughtExceptions). Only a SIGKILL or a crash of Node itself can
 * lose the lines of the current loop turn. Neither alternative keeps that promise: process.stdout
 * on a pipe queues what the pipe cannot take and drops it at exit, and
 * pino.destination({ sync: false }) writes from the libuv threadpool, queued behind argon2 hashes,
 * and cannot tell at exit whether its chunk in flight was written.
 *
 * When something has replaced process.stdout.write (a test capturing the output, as pino itself
 * checks), the batches go through it instead, so that whoever watches stdout sees every line.
 */
export class BatchedStdout {
  private lines: string[] = [];
  private bytes = 0;
  /** What a full pipe did not take yet, written before anything newer. */
  private leftover: Buffer | undefined;
  private scheduled = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly fd = 1) {}

  write(line: string): void {
    this.lines.push(line);
    this.bytes += line.length;
    if (this.bytes >= BATCH_BYTES) this.flush();
    else if (!this.scheduled && !this.retry) {
      this.scheduled = true;
      setImmediate(this.flushLater);
    }
  }

  /** Writes what the output takes now, and retries the rest shortly (pino's logger.flush(cb) passes a callback). */
  flush(done?: (error?: Error) => void): void {
    this.writeOut(false);
    done?.();
  }

  /** Writes everything, waiting out a full pipe: for the exit, when no event loop is left. */
  flushSync(): void {
    this.writeOut(true);
  }

  private readonly flushLater = (): void => {
    this.scheduled = false;
    this.retry = undefined;
    this.flush();
  };

  private writeOut(untilDone: boolean): void {
    if (this.lines.length === 0 && !this.leftover) return;
    const text = this.lines.length === 1 ? this.lines[0] : this.lines.join('');
    this.lines = [];
    this.bytes = 0;
    if (stdoutReplaced()) {
      if (this.leftover) process.stdout.write(this.leftover);
      this.leftover = undefined;
      if (text) process.stdout.write(text);
      return;
    }
    let buffer = this.leftover ? Buffer.concat([this.leftover, Buffer.from(text)]) : Buffer.from(text);
    this.leftover = undefined;
    const giveUpAt = Date.now() + EXIT_WAIT_MS;
    while (buffer.length > 0) {
      try {
        buffer = buffer.subarray(writeSync(this.fd, buffer));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return; // EPIPE and the like: nobody reads the log
        if (!untilDone) {
          this.leftover = buffer;
          this.retry ??= setTimeout(this.flushLater, RETRY_MS);
          return;
        }
        if (Date.now() > giveUpAt) return;
        Atomics.wait(SLEEP, 0, 0, 1);
      }
    }
  }
}

/** A batch goes out at this size even before the loop comes round (a burst of long lines). */
const BATCH_BYTES = 64 * 1024;
/** How soon a write a full pipe refused is tried again. */
const RETRY_MS = 5;
/** How long the exit waits for a stalled reader of the pipe before it gives up. */
const EXIT_WAIT_MS = 5_000;
const SLEEP = new Int32Array(new SharedArrayBuffer(4));

function stdoutReplaced(): boolean {
  const stdout = process.stdout as NodeJS.WriteStream & { constructor: { prototype: { write: unknown } } };
  return stdout.write !== stdout.constructor.prototype.write;
}

let shared: BatchedStdout | undefined;

/**
 * The process's one log destination, shared by every logger in it (each app instance in a test
 * process, the API and its ops listener), so there is one buffer and one exit hook.
 */
export function sharedLogDestination(): BatchedStdout {
  if (!shared) {
    const destination = new BatchedStdout();
    process.on('exit', () => destination.flushSync());
    shared = destination;
  }
  return shared;
}

let crashLogger: { fatal(fields: object, message: string): void } | undefined;

/**
 * Logs an uncaught exception (or a rejection Node turns into one) as a fatal line before the
 * process dies. A monitor only: Node's own handling (print the stack, exit 1) is unchanged, and the
 * exit flush then writes this line and every line before it. The first logger to ask keeps it.
 */
export function logUncaughtExceptions(logger: { fatal(fields: object, message: string): void }): void {
  if (crashLogger) return;
  crashLogger = logger;
  process.on('uncaughtExceptionMonitor', (error, origin) => {
    crashLogger?.fatal({ err: error, origin }, `Crashed: ${origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception'}`);
  });
}

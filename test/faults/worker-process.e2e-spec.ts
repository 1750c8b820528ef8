import { Queue } from 'bullmq';
import { MAIL_QUEUE } from '@accounts/mail/contract';
import { redisOptions } from '@accounts/redis';
import { SmtpSink } from '../support/smtp-sink';
import { startStack, type Stack } from '../support/stack';
import { waitUntil } from '../support/polling';
import { burst, deliveryReport, eventIdsFor, printReport, waitForDeliveries, waitForQueueIdle } from './support/mail-audit';
import { WorkerProcess } from './support/worker-process';

/**
 * The mail worker as its own OS process, killed for real. The SMTP sink acknowledges each message
 * slowly so that jobs are in flight when the signal arrives; the sink records a message when its
 * data is in, before the acknowledgement, so a worker killed in between sends it again.
 */
describe('faults 2 and 3: the mail worker process killed or stopped mid-burst', () => {
  const CONCURRENCY = 4;
  let stack: Stack;
  let sink: SmtpSink;
  let queue: Queue;
  const workers: WorkerProcess[] = [];

  const startWorker = async (name: string, env: Record<string, string> = {}, target: SmtpSink = sink) => {
    const worker = await WorkerProcess.start(name, {
      QUEUE_PREFIX: stack.prefix,
      SMTP_URL: target.url,
      REDIS_URL: process.env.REDIS_URL!,
      PAYLOAD_KEY: process.env.PAYLOAD_KEY!,
      WORKER_PORT: '0',
      LOG_LEVEL: 'info',
      MAIL_CONCURRENCY: String(CONCURRENCY),
      // Locks of a killed worker expire within seconds, so its jobs are taken over quickly.
      MAIL_LOCK_DURATION: '2s',
      ...env,
    });
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    sink = await SmtpSink.start({ latencyMs: 300 });
    stack = await startStack({ withoutWorker: true });
    queue = new Queue(MAIL_QUEUE, { connection: redisOptions(process.env.REDIS_URL!, 'producer'), prefix: stack.prefix });
  });
  /** Each test starts from no worker at all. */
  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
  });
  afterAll(async () => {
    await queue?.close();
    await stack?.close();
    await sink?.stop();
  });

  it('fault 2: SIGKILL mid-burst, then a new worker: every email arrives, duplicates only from jobs in flight', async () => {
    const first = await startWorker('crash-1');
    let inFlightAtKill: string[] | undefined;
    const killWhenBusy = async () => {
      if (inFlightAtKill || sink.messages.length < 3) return;
      const active = await queue.getActive();
      if (active.length === 0) return;
      inFlightAtKill = active.map((job) => job.id!);
      first.kill('SIGKILL');
    };
    const sent = await burst(stack.api, 20, { label: 'sigkill', onProgress: killWhenBusy });
    if (!inFlightAtKill) await waitUntil(async () => (await killWhenBusy(), inFlightAtKill !== undefined), 20_000, 'jobs in flight');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(sent.answers).toEqual({ '201 register': 20, '202 forgot': 20 });

    await startWorker('crash-2');
    const all = await eventIdsFor(stack.sql, sent.registered);
    expect(all).toHaveLength(40);
    const report = await waitForDeliveries(sink, all, 45_000);
    printReport('worker SIGKILL mid-burst', report, {
      inFlightAtKill: inFlightAtKill!.length,
      duplicatesAmongThem: report.duplicatedIds.filter((id) => inFlightAtKill!.includes(id)).length,
    });
    // At-least-once: only a job that was running when the worker died can be sent twice.
    expect(report.duplicates).toBeLessThanOrEqual(CONCURRENCY);
    await waitForQueueIdle(queue, 10_000);
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
  });

  it('fault 3: SIGTERM with jobs in flight: the worker finishes them and exits 0 within its budget; nothing is lost', async () => {
    const worker = await startWorker('term-1', { MAIL_SHUTDOWN_TIMEOUT: '10s' });
    let inFlightAtTerm: string[] | undefined;
    let signalledAt = 0;
    const terminateWhenBusy = async () => {
      if (inFlightAtTerm) return;
      const active = await queue.getActive();
      if (active.length < 2) return;
      inFlightAtTerm = active.map((job) => job.id!);
      signalledAt = Date.now();
      worker.kill('SIGTERM');
    };
    const sent = await burst(stack.api, 16, { label: 'sigterm', onProgress: terminateWhenBusy });
    if (!inFlightAtTerm) await waitUntil(async () => (await terminateWhenBusy(), inFlightAtTerm !== undefined), 20_000, 'jobs in flight');
    expect(sent.answers).toEqual({ '201 register': 16, '202 forgot': 16 });

    // The budget is 10 s; the process must be gone by then (plus start-up slack for a busy machine).
    const exit = await worker.exitWithin(15_000);
    const shutdownMs = Date.now() - signalledAt;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(worker.output).toMatch(/Shutting down: finishing \d+ mail job\(s\) in flight/);
    expect(worker.output).not.toMatch(/Shutdown budget/);
    // What was running was sent and completed (completed jobs leave Redis), not left for another worker.
    expect(deliveryReport(sink, inFlightAtTerm!).missing).toEqual([]);
    for (const id of inFlightAtTerm!) expect(await queue.getJob(id)).toBeUndefined();
    const leftForNext = await queue.getJobCounts('waiting', 'active', 'delayed');

    await startWorker('term-2');
    const all = await eventIdsFor(stack.sql, sent.registered);
    expect(all).toHaveLength(32);
    const report = await waitForDeliveries(sink, all, 45_000);
    printReport('worker SIGTERM mid-burst', report, { inFlightAtTerm: inFlightAtTerm!.length, shutdownMs, exitCode: exit!.code, ...leftForNext });
    expect(report.duplicates).toBe(0);
    await waitForQueueIdle(queue, 10_000);
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
  });

  it('fault 3b: SIGTERM while a send hangs past the budget: the send is interrupted, retried elsewhere, and the worker still exits 0', async () => {
    const stuck = await SmtpSink.start({ latencyMs: 8_000 });
    try {
      const worker = await startWorker('term-slow', { MAIL_SHUTDOWN_TIMEOUT: '1s' }, stuck);
      const sent = await burst(stack.api, 2, { label: 'budget' });
      const all = await eventIdsFor(stack.sql, sent.registered);
      await waitUntil(() => stuck.messages.length > 0, 20_000, 'a send to hang');
      const signalledAt = Date.now();
      worker.kill('SIGTERM');
      const exit = await worker.exitWithin(10_000);
      const shutdownMs = Date.now() - signalledAt;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(worker.output).toMatch(/Shutdown budget of 1000 ms spent/);

      await startWorker('term-after');
      const report = await waitForDeliveries(sink, all, 30_000);
      printReport('worker SIGTERM past its budget', report, { hungAtStuckSink: stuck.messages.length, shutdownMs });
      await waitForQueueIdle(queue, 10_000);
      expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
    } finally {
      await stuck.stop();
    }
  });
});

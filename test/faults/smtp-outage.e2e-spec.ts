import { Queue } from 'bullmq';
import { MAIL_QUEUE } from '@accounts/mail/contract';
import { redisOptions } from '@accounts/redis';
import { retryFailedMail } from '../../apps/mail-worker/src/retry-failed';
import { startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';
import { waitUntil } from '../support/polling';
import { burst, eventIdsFor, printReport, waitForDeliveries, waitForQueueIdle } from './support/mail-audit';

describe('fault 4: the SMTP server down for a while, and an address it refuses for good', () => {
  let stack: Stack;
  let queue: Queue;
  beforeAll(async () => {
    stack = await startStack();
    queue = new Queue(MAIL_QUEUE, { connection: redisOptions(process.env.REDIS_URL!, 'producer'), prefix: stack.prefix });
  });
  afterAll(async () => {
    await queue?.close();
    await stack?.close();
  });

  it('retries with exponential backoff while SMTP is down and delivers every email once it is back', async () => {
    await stack.sink.stop();
    const sent = await burst(stack.api, 8, { label: 'smtp-down' });
    expect(sent.answers).toEqual({ '201 register': 8, '202 forgot': 8 });
    const all = await eventIdsFor(stack.sql, sent.registered);
    expect(all).toHaveLength(16);

    // Each job fails, waits 1 s, fails, waits 2 s, fails again: three attempts, none lost.
    let attempts = 0;
    await waitUntil(
      async () => {
        const retrying = await queue.getDelayed();
        attempts = Math.max(0, ...retrying.map((job) => job.attemptsMade));
        return attempts >= 3;
      },
      30_000,
      'a job to be retried twice',
    );
    const delayed = await queue.getDelayed();
    expect(delayed.every((job) => job.opts.backoff && (job.opts.backoff as { type: string }).type === 'exponential')).toBe(true);
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
    expect(stack.sink.messages.filter((mail) => sent.registered.includes(mail.to))).toHaveLength(0);

    await stack.sink.restart();
    const report = await waitForDeliveries(stack.sink, all, 45_000);
    printReport('smtp down then back', report, { attemptsDuringOutage: attempts });
    expect(report.duplicates).toBe(0);
    await waitForQueueIdle(queue, 10_000);
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
  });

  it('keeps a permanently refused address as one failed job in Redis without holding up the others', async () => {
    const refused = uniqueEmail('refused');
    stack.sink.rejectRecipient(refused, 550);
    expect((await stack.api.post('/auth/register', { email: refused, password: strongPassword() })).status).toBe(201);
    const [refusedEvent] = await eventIdsFor(stack.sql, [refused]);
    const after = await burst(stack.api, 4, { label: 'after-refused' });
    const report = await waitForDeliveries(stack.sink, await eventIdsFor(stack.sql, after.registered), 20_000);
    printReport('smtp 550 for one address (the others)', report);

    await waitUntil(async () => (await queue.getJobState(refusedEvent)) === 'failed', 20_000, 'the refused mail to fail');
    const job = (await queue.getJob(refusedEvent))!;
    // A permanent rejection is not retried: one attempt, the reason kept for inspection.
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/refused the message permanently/);
    expect(job.data).toMatchObject({ email: refused });
    expect(stack.sink.messages.some(to(refused))).toBe(false);
    // Fixed later; the next test re-drives it.
    stack.sink.acceptRecipient(refused);
  });

  it('lets ops list the failed jobs and send them again (npm run mail:retry-failed)', async () => {
    const refused = uniqueEmail('redrive');
    stack.sink.rejectRecipient(refused, 550);
    await stack.api.post('/auth/register', { email: refused, password: strongPassword() });
    const [event] = await eventIdsFor(stack.sql, [refused]);
    await waitUntil(async () => (await queue.getJobState(event)) === 'failed', 20_000, 'the mail to fail');
    const target = { redisUrl: process.env.REDIS_URL!, prefix: stack.prefix };

    const listed: string[] = [];
    const listing = await retryFailedMail({ ...target, list: true, print: (line) => listed.push(line) });
    expect(listing.retried).toBe(0);
    expect(listing.failed).toBeGreaterThanOrEqual(1);
    expect(listed[0]).toMatch(new RegExp(`^${listing.failed} failed mail job\\(s\\)`));
    const line = listed.find((l) => l.startsWith(event))!;
    expect(line).toMatch(/user\.registered {2}to r\*\*\*@example\.com {2}attempts 1 /);
    expect(line).not.toContain(refused);
    expect(await queue.getJobState(event)).toBe('failed');

    // The address accepts mail again: one command sends every failed mail.
    stack.sink.acceptRecipient(refused);
    const printed: string[] = [];
    const result = await retryFailedMail({ ...target, print: (l) => printed.push(l) });
    expect(result).toEqual({ failed: listing.failed, retried: listing.failed });
    expect(printed).toContain(`Retried ${listing.failed} of ${listing.failed} failed mail job(s)`);
    const mail = await stack.sink.waitFor(to(refused), 15_000);
    expect(mail.messageId).toBe(`<${event}@accounts.test>`);
    await waitForQueueIdle(queue, 10_000);
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
  });
});

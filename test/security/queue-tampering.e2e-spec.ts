import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { MAIL_QUEUE, type MailJobData } from '@accounts/mail/contract';
import { redisOptions } from '@accounts/redis';
import { waitUntil } from '../support/polling';
import { createAccount } from '../support/security';
import { startStack, to, type Stack } from '../support/stack';

/**
 * Someone who can write to the queue (Redis access, a writable dashboard) redirects a queued reset
 * mail to their own address. The seal binds the event, the user and the recipient (SPEC §5), so the
 * worker cannot open the token for the new address: the job fails for good, without retries, and
 * nothing reaches the attacker.
 */
describe('security: tampering with queued mail jobs', () => {
  let stack: Stack;
  let queue: Queue<MailJobData<'password.reset-requested'>>;
  const attacker = `attacker@evil-${randomBytes(4).toString('hex')}.test`;

  beforeAll(async () => {
    // No worker yet: the job waits in Redis, where the attacker edits it.
    stack = await startStack({ env: { MAIL_ATTEMPTS: '3', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal' }, withoutWorker: true });
    queue = new Queue(MAIL_QUEUE, { connection: redisOptions(process.env.REDIS_URL!, 'worker'), prefix: stack.prefix });
  });
  afterAll(async () => {
    await queue?.close();
    await stack?.close();
  });

  /** Records a reset for a fresh account and waits until the relay has queued it; returns the job id. */
  async function queuedReset(): Promise<{ email: string; userId: string; jobId: string }> {
    const victim = await createAccount(stack, { label: 'tamper' });
    expect((await stack.api.post('/auth/password/forgot', { email: victim.email })).status).toBe(202);
    const [{ id }] = await stack.sql<{ id: string }>(`select id from outbox where name = 'password.reset-requested' and payload->>'email' = ?`, [victim.email]);
    await waitUntil(async () => (await queue.getJob(id)) !== undefined, 10_000, 'the reset job queued');
    return { ...victim, jobId: id };
  }

  /** Settled: sent and removed, or failed for good, or waiting for a retry. */
  async function settled(jobId: string): Promise<string> {
    let state = '';
    await waitUntil(async () => {
      const job = await queue.getJob(jobId);
      state = job ? await job.getState() : 'removed';
      return state === 'removed' || state === 'failed' || (state === 'delayed' && job!.attemptsMade > 0);
    }, 15_000, 'the job settled');
    return state;
  }

  it('fails reset jobs whose recipient or user was changed, for good, and sends the link to no one', async () => {
    const redirected = await queuedReset();
    const moved = await queuedReset();
    const other = await createAccount(stack, { label: 'tamper-other' });
    const redirectedJob = (await queue.getJob(redirected.jobId))!;
    await redirectedJob.updateData({ ...redirectedJob.data, email: attacker });
    const movedJob = (await queue.getJob(moved.jobId))!;
    await movedJob.updateData({ ...movedJob.data, userId: other.userId });

    await stack.startWorker();
    for (const { jobId } of [redirected, moved]) {
      expect({ jobId, state: await settled(jobId) }).toEqual({ jobId, state: 'failed' });
      const failed = (await queue.getJob(jobId))!;
      expect({ jobId, attemptsMade: failed.attemptsMade, attempts: failed.opts.attempts }).toEqual({ jobId, attemptsMade: 1, attempts: 3 });
    }
    expect(stack.sink.messages.filter(to(attacker))).toEqual([]);
    const resets = stack.sink.messages.filter((mail) => /reset/i.test(mail.subject));
    expect(resets.filter((mail) => [redirected.email, moved.email, other.email].includes(mail.to))).toEqual([]);
  });
});

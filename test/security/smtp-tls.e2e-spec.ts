import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { MAIL_QUEUE } from '@accounts/mail/contract';
import { redisOptions } from '@accounts/redis';
import { startStack, to, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';
import { waitUntil } from '../support/polling';
import { eventIdsFor } from '../faults/support/mail-audit';

/**
 * Production never lets an SMTP server (or whoever sits between us and it) downgrade a delivery to
 * plaintext: `smtp://` must upgrade with STARTTLS. The test's SMTP sink offers no STARTTLS, like a
 * stripped connection would.
 */
describe('security: production SMTP refuses plaintext', () => {
  // NODE_ENV unset means production, which needs secrets of its own (published ones are refused).
  const production = {
    NODE_ENV: '',
    JWT_SECRET: randomBytes(48).toString('base64'),
    PAYLOAD_KEY: randomBytes(32).toString('base64'),
    MFA_KEY: randomBytes(32).toString('base64'),
    // Production refuses to run without its limits.
    RATE_LIMIT_ENABLED: 'true',
    // One attempt: a refused delivery ends as a failed job at once.
    MAIL_ATTEMPTS: '1',
  };
  let stack: Stack | undefined;
  let queue: Queue | undefined;
  afterEach(async () => {
    await queue?.close();
    await stack?.close();
    queue = stack = undefined;
  });

  async function register(env: Record<string, string>): Promise<{ email: string; eventId: string }> {
    stack = await startStack({ env });
    queue = new Queue(MAIL_QUEUE, { connection: redisOptions(process.env.REDIS_URL!, 'producer'), prefix: stack.prefix });
    const email = uniqueEmail('smtp-tls');
    expect((await stack.api.post('/auth/register', { email, password: strongPassword() })).status).toBe(201);
    const [eventId] = await eventIdsFor(stack.sql, [email]);
    return { email, eventId };
  }

  it('does not send the welcome mail to a server without STARTTLS', async () => {
    const { email, eventId } = await register(production);
    await waitUntil(async () => (await queue!.getJobState(eventId)) === 'failed', 20_000, 'the delivery to fail');
    expect(stack!.sink.messages.filter(to(email))).toEqual([]);
  });

  it('sends it in plaintext when SMTP_ALLOW_PLAINTEXT=true says so', async () => {
    const { email, eventId } = await register({ ...production, SMTP_ALLOW_PLAINTEXT: 'true' });
    const mail = await stack!.sink.waitFor(to(email), 20_000);
    expect(mail.messageId).toContain(eventId);
  });
});

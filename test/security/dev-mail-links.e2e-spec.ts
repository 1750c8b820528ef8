import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { StdoutCapture } from '../support/ops';
import { waitUntil } from '../support/polling';
import { startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

const RESET_LINK = /https?:\/\/[^\s"'<>]+\/reset-password\?token=[A-Za-z0-9_%-]+/;

/**
 * Without SMTP_URL the worker writes .eml files, whose quoted-printable body splits the links. In
 * development it logs each message's links whole, next to the file; in production and in tests,
 * where logs are shipped and kept, a live token must never reach a log line.
 */
describe('security: emailed links in the worker log only in development', () => {
  let stack: Stack;
  let dir: string;
  let capture: StdoutCapture | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dev-mail-links-'));
    // A key production accepts (the test suite's own is published), shared by the API and the worker.
    stack = await startStack({ withoutWorker: true, env: { PAYLOAD_KEY: randomBytes(32).toString('base64') } });
  });
  afterEach(async () => {
    capture?.stop();
    await stack.worker?.close();
    stack.worker = undefined;
  });
  afterAll(async () => {
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts a worker in `runtime` writing .eml files, requests a reset, and returns its link and the file. */
  async function resetMailIn(runtime: 'development' | 'test' | 'production'): Promise<{ link: string; file: string; logs: () => string }> {
    const outbox = join(dir, runtime);
    const logs = new StdoutCapture();
    capture = logs;
    await stack.startWorker({ NODE_ENV: runtime, SMTP_URL: '', MAIL_OUTBOX_DIR: outbox, LOG_LEVEL: 'trace' });
    const email = uniqueEmail(`links-${runtime}`);
    expect((await stack.api.post('/auth/register', { email, password: strongPassword() })).status).toBe(201);
    expect((await stack.api.post('/auth/password/forgot', { email })).status).toBe(202);

    let found: { link: string; file: string } | undefined;
    await waitUntil(async () => {
      for (const name of await readdir(outbox).catch(() => [])) {
        const parsed = await simpleParser(await readFile(join(outbox, name)));
        const link = RESET_LINK.exec(parsed.text ?? '')?.[0];
        if (link) found = { link, file: join(outbox, name) };
      }
      return found !== undefined;
    }, 15_000, 'the reset email as an .eml file');
    // The worker logs that it sent the mail once the file and any link line are written.
    await waitUntil(() => /Sent password\.reset-requested/.test(logs.text), 5_000, 'the worker reporting the send');
    return { ...found!, logs: () => logs.text };
  }

  it('development: logs the decoded reset link on one line with the file path', async () => {
    const { link, file, logs } = await resetMailIn('development');
    const line = logs()
      .split('\n')
      .find((entry) => entry.includes(link));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ level: 'info', context: 'MailSender', msg: expect.stringContaining(file) });
  });

  it.each(['test', 'production'] as const)('%s: logs neither the link nor its token', async (runtime) => {
    const { link, logs } = await resetMailIn(runtime);
    const token = new URL(link).searchParams.get('token')!;
    expect(logs()).toContain('Sent password.reset-requested');
    expect(logs()).not.toContain(token);
    expect(logs()).not.toContain('/reset-password');
  });
});

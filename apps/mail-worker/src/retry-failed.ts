import { existsSync } from 'node:fs';
import { Job, Queue } from 'bullmq';
import { ConfigError, queueConfig, redactUrl } from '@accounts/config';
import { MAIL_QUEUE, maskEmail } from '@accounts/mail/contract';
import { redisOptions, redisUnreachableReason } from '@accounts/redis';

/**
 * `npm run mail:retry-failed [-- --list]`: lists the mail jobs kept as failed, or sends them again.
 * A retried job starts over with MAIL_ATTEMPTS attempts and the same job id (= event id, the
 * Message-ID), so a recipient can tell a re-sent mail from a new one.
 */
export interface RetryFailedOptions {
  /** Only list the failed jobs; change nothing. */
  list?: boolean;
  /** Default: REDIS_URL and QUEUE_PREFIX from the environment. */
  redisUrl?: string;
  prefix?: string;
  /** Where the report goes, one line per call. Default: stdout. */
  print?: (line: string) => void;
}

export interface RetryFailedResult {
  failed: number;
  retried: number;
}

const PAGE = 500;

export class RetryFailedError extends Error {
  override readonly name = 'RetryFailedError';
}

export async function retryFailedMail(options: RetryFailedOptions = {}): Promise<RetryFailedResult> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const settings = options.redisUrl && options.prefix ? undefined : queueConfig();
  const redisUrl = options.redisUrl ?? settings!.redisUrl;
  const prefix = options.prefix ?? settings!.prefix;
  const unreachable = await redisUnreachableReason(redisUrl);
  if (unreachable !== undefined) throw new RetryFailedError(`cannot reach Redis at ${redactUrl(redisUrl)} (${unreachable})`);

  const queue = new Queue(MAIL_QUEUE, { connection: redisOptions(redisUrl, 'producer'), prefix });
  queue.on('error', () => undefined);
  try {
    const ids = await failedJobIds(queue);
    if (options.list) {
      print(`${ids.length} failed mail job(s) in queue "${MAIL_QUEUE}" (prefix "${prefix}")`);
      for (const id of ids) {
        const job = await Job.fromId(queue, id);
        if (job) print(describeJob(job));
      }
      return { failed: ids.length, retried: 0 };
    }
    let retried = 0;
    for (const id of ids) {
      const job = await Job.fromId(queue, id);
      if (!job) continue;
      try {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        retried++;
      } catch (error) {
        // Retried or removed by someone else meanwhile.
        print(`skipped ${id}: ${(error as Error).message}`);
      }
    }
    print(`Retried ${retried} of ${ids.length} failed mail job(s)`);
    return { failed: ids.length, retried };
  } finally {
    await queue.close();
  }
}

/** Every failed job id, oldest failure first; read before anything moves. */
async function failedJobIds(queue: Queue): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; ; start += PAGE) {
    const page = await queue.getRanges(['failed'], start, start + PAGE - 1, true);
    ids.push(...page);
    if (page.length < PAGE) return ids;
  }
}

function describeJob(job: Job): string {
  const failedAt = job.finishedOn ? new Date(job.finishedOn).toISOString() : '-';
  const to = typeof job.data?.email === 'string' ? maskEmail(job.data.email) : '-';
  const reason = (job.failedReason ?? '').replace(/\s+/g, ' ').slice(0, 200);
  return `${job.id}  ${job.name}  to ${to}  attempts ${job.attemptsMade}  failed ${failedAt}  ${reason}`;
}

const USAGE = `Usage: npm run mail:retry-failed [-- --list]
  (no option)  send every failed mail job again, with a fresh MAIL_ATTEMPTS
  --list       list the failed mail jobs (id, event, masked recipient, attempts, reason)
Reads REDIS_URL and QUEUE_PREFIX (and .env in development).`;

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((arg) => !['--list', '--help', '-h'].includes(arg));
  if (argv.includes('--help') || argv.includes('-h') || unknown.length > 0) {
    if (unknown.length > 0) process.stderr.write(`mail:retry-failed: unknown option ${unknown.join(' ')}\n`);
    process.stdout.write(`${USAGE}\n`);
    return unknown.length > 0 ? 2 : 0;
  }
  if (process.env.NODE_ENV === 'development' && existsSync('.env')) process.loadEnvFile('.env');
  try {
    await retryFailedMail({ list: argv.includes('--list') });
    return 0;
  } catch (error) {
    const known = error instanceof ConfigError || error instanceof RetryFailedError;
    process.stderr.write(`mail:retry-failed: ${known ? error.message : ((error as Error).stack ?? String(error))}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}

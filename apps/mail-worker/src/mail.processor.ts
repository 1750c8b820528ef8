import { resolve } from 'node:path';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import { mailConfig, queueConfig, redactUrl } from '@accounts/config';
import { isMailEventName, MAIL_QUEUE, PayloadSealError, type MailJobData } from '@accounts/mail/contract';
import { MailComposer, MailSender, MalformedEventError } from '@accounts/mail/delivery';
import { redisOptions } from '@accounts/redis';
import { JobLogContext } from './job-log.context';
import { MailMetrics } from './mail.metrics';

/**
 * Consumes the mail queue: compose, send, done. Failures that a retry cannot fix (an unknown or
 * malformed event, a seal that does not open, a permanent SMTP rejection) end the job at once; everything else is rethrown
 * so BullMQ retries it with the producer's backoff. The BullMQ worker is built here from the config
 * (concurrency and lock settings are constructor options, which a static decorator cannot take) and
 * started once the rate cap is applied.
 */
@Injectable()
export class MailProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MailProcessor.name);
  readonly worker: Worker<MailJobData, void, string>;
  /** Jobs this worker is running now. */
  private activeJobs = 0;
  /** Rejects once the shutdown budget is spent, failing the sends still running (they are retried). */
  private readonly interrupted: Promise<never>;
  private interrupt!: (error: Error) => void;

  constructor(
    private readonly composer: MailComposer,
    private readonly sender: MailSender,
    @Inject(mailConfig.KEY) private readonly config: ConfigType<typeof mailConfig>,
    @Inject(queueConfig.KEY) private readonly queueSettings: ConfigType<typeof queueConfig>,
    @InjectQueue(MAIL_QUEUE) private readonly queue: Queue,
    private readonly metrics: MailMetrics,
    private readonly jobLogs: JobLogContext,
  ) {
    const { lockDurationMs } = queueSettings;
    this.worker = new Worker<MailJobData, void, string>(MAIL_QUEUE, (job) => this.process(job), {
      connection: redisOptions(queueSettings.redisUrl, 'worker'),
      prefix: queueSettings.prefix,
      autorun: false,
      concurrency: config.concurrency,
      // A job's lock is renewed every half of it, and stalled jobs are looked for as often.
      lockDuration: lockDurationMs,
      lockRenewTime: lockDurationMs / 2,
      stalledInterval: lockDurationMs,
    });
    this.worker.on('failed', (job, error) => this.onFailed(job, error));
    this.worker.on('completed', (job) => this.onCompleted(job));
    this.worker.on('error', (error) => this.onError(error));
    this.interrupted = new Promise<never>((_, reject) => {
      this.interrupt = reject;
    });
    this.interrupted.catch(() => undefined);
  }

  async onApplicationBootstrap(): Promise<void> {
    // The cap is stored in Redis and applies to every replica; the last worker to start sets it.
    if (this.config.ratePerSecond) await this.queue.setGlobalRateLimit(this.config.ratePerSecond, 1_000);
    else await this.queue.removeGlobalRateLimit();
    const rate = this.config.ratePerSecond ? `, at most ${this.config.ratePerSecond}/s across workers` : '';
    const target = this.config.smtpUrl
      ? `sending through ${redactUrl(this.config.smtpUrl)}`
      : `no SMTP_URL: writing messages to ${resolve(this.config.outboxDir)}`;
    this.logger.log(`Taking mail jobs (concurrency ${this.config.concurrency}${rate}); ${target}`);
    this.worker.run().catch((error: Error) => this.logger.error(`Mail worker stopped: ${error.message}`));
  }

  /**
   * Runs before the mailer's own shutdown (this module is torn down before the global ones):
   * the worker takes no new job and the jobs in flight finish while their SMTP connections are
   * still open. Past MAIL_SHUTDOWN_TIMEOUT the sends still running are failed as an interrupted
   * attempt, so BullMQ schedules their retry (for this or another worker) and the worker can go.
   */
  async onModuleDestroy(): Promise<void> {
    const budget = this.queueSettings.shutdownTimeoutMs;
    if (this.activeJobs > 0) this.logger.log(`Shutting down: finishing ${this.activeJobs} mail job(s) in flight (at most ${budget} ms)`);
    const timer = setTimeout(() => {
      this.logger.error(`Shutdown budget of ${budget} ms spent with ${this.activeJobs} job(s) in flight; they will be retried`);
      this.interrupt(new Error('interrupted by the worker shutting down'));
    }, budget);
    try {
      await this.worker.close();
    } finally {
      clearTimeout(timer);
    }
  }

  /** Every line logged while the job runs carries its event id and name. */
  process(job: Job<MailJobData, void, string>): Promise<void> {
    return this.jobLogs.run(job, () => this.handle(job));
  }

  private async handle(job: Job<MailJobData, void, string>): Promise<void> {
    const name = job.name;
    if (!isMailEventName(name)) throw new UnrecoverableError(`Unknown mail event "${name}"`);
    const started = Date.now();
    this.activeJobs++;
    try {
      const mail = this.composer.compose(name, job.data, job.id!);
      const delivery = await Promise.race([this.sender.send(mail, job.id!), this.interrupted]);
      const where = delivery.file ? ` to ${delivery.file}` : '';
      this.metrics.observeSend(name, (Date.now() - started) / 1000);
      this.logger.log(`Sent ${name} (event ${job.id})${where} in ${Date.now() - started} ms`);
    } catch (error) {
      // A seal that does not open for this event and recipient (a job edited in Redis, or a retired
      // seal format) opens no better on a retry: fail it for good, never send it.
      if (error instanceof MalformedEventError || error instanceof PayloadSealError) throw new UnrecoverableError(error.message);
      if (isPermanentSmtpRejection(error)) {
        throw new UnrecoverableError(`SMTP server refused the message permanently: ${(error as Error).message}`);
      }
      throw error;
    } finally {
      this.activeJobs--;
    }
  }

  private onFailed(job: Job | undefined, error: Error): void {
    if (!job) return;
    const attempts = job.opts.attempts ?? 1;
    const final = error instanceof UnrecoverableError || job.attemptsMade >= attempts;
    const line = `${job.name} (event ${job.id}) failed on attempt ${job.attemptsMade}/${attempts}: ${error.message}`;
    this.metrics.jobFailed(job.name, final);
    this.jobLogs.run(job, () => {
      if (final) this.logger.error(`${line}; kept as failed`);
      else this.logger.warn(`${line}; will retry`);
    });
  }

  private onCompleted(job: Job): void {
    this.metrics.jobCompleted(job.name);
  }

  private onError(error: Error): void {
    // Without a listener an 'error' event (Redis gone, for one) would crash the process.
    this.logger.error(`Mail worker error: ${error.message}`);
  }
}

/** 5xx replies are final; 4xx and connection failures are worth another attempt. */
function isPermanentSmtpRejection(error: unknown): boolean {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

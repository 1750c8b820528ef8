import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { MailerService } from '@nestjs-modules/mailer';
import { HealthIndicatorService } from '@nestjs/terminus';
import { mailConfig, withinDeadline } from '@accounts/config';

/** A verified SMTP server is trusted this long before it is asked again (each check connects and logs in). */
const VERIFIED_FOR_MS = 30_000;

/**
 * Whether the SMTP server of SMTP_URL accepts a connection and our login (nodemailer's verify).
 * Without SMTP_URL the worker writes .eml files: nothing to reach, reported as not configured.
 * At most one verification is in flight, however many probes ask.
 */
@Injectable()
export class SmtpHealthIndicator {
  private inFlight: Promise<string | undefined> | undefined;
  private verifiedAt = 0;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly mailer: MailerService,
    @Inject(mailConfig.KEY) private readonly config: ConfigType<typeof mailConfig>,
  ) {}

  async check<const Key extends string>(key: Key, timeoutMs: number) {
    const indicator = this.indicators.check(key);
    if (!this.config.smtpUrl) return indicator.up({ configured: false, message: 'SMTP_URL is not set: messages are written as .eml files' });
    if (Date.now() - this.verifiedAt < VERIFIED_FOR_MS) return indicator.up({ configured: true });
    const failure = await this.verify(timeoutMs);
    if (failure !== undefined) return indicator.down({ configured: true, message: failure });
    this.verifiedAt = Date.now();
    return indicator.up({ configured: true });
  }

  /** Why the server cannot be used, or undefined when it can. */
  private async verify(timeoutMs: number): Promise<string | undefined> {
    this.inFlight ??= Promise.resolve()
      .then(() => this.mailer.getTransporter().verify())
      .then(
        () => undefined,
        (error: Error) => error.message.split('\n')[0],
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return withinDeadline(this.inFlight, timeoutMs, () => `no answer within ${timeoutMs} ms`);
  }
}

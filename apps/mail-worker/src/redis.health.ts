import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { pingWithin } from '@accounts/mail';
import { MailProcessor } from './mail.processor';

/** PINGs Redis over the worker's own connection: a worker without Redis can do nothing. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly processor: MailProcessor,
  ) {}

  async pingCheck<const Key extends string>(key: Key, timeoutMs: number) {
    const indicator = this.indicators.check(key);
    return (await pingWithin(this.processor.worker.client, timeoutMs)) ? indicator.up() : indicator.down({ message: `no answer within ${timeoutMs} ms` });
  }
}

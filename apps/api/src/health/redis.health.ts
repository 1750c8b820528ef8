import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Queue } from 'bullmq';
import { MAIL_QUEUE, pingWithin } from '@accounts/mail';

/** PINGs Redis over the mail queue's own connection, the one the outbox relay publishes through. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @InjectQueue(MAIL_QUEUE) private readonly queue: Queue,
  ) {}

  async pingCheck<const Key extends string>(key: Key, timeoutMs: number) {
    const indicator = this.indicators.check(key);
    return (await pingWithin(this.queue.client, timeoutMs)) ? indicator.up() : indicator.down({ message: `no answer within ${timeoutMs} ms` });
  }
}

import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { pingWithin } from '@accounts/mail';
import { MailProcessor } from './mail.processor';

const READY_TIMEOUT_MS = 1_000;

/** Liveness and readiness for the orchestrator. */
@Controller('health')
export class HealthController {
  constructor(private readonly processor: MailProcessor) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready while the worker's own Redis connection answers; a worker without Redis can do nothing. */
  @Get('ready')
  async ready(): Promise<{ status: 'ok'; redis: 'up' }> {
    if (await pingWithin(this.processor.worker.client, READY_TIMEOUT_MS)) return { status: 'ok', redis: 'up' };
    throw new ServiceUnavailableException({ status: 'error', redis: 'down' });
  }
}

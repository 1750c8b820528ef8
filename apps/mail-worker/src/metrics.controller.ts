import { Controller, Get, Header, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { MailMetrics } from './mail.metrics';

/** Prometheus scrape endpoint on WORKER_PORT. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MailMetrics) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    reply.type(this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}

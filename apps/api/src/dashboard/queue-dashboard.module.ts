import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { adminConfig } from '@accounts/config';
import { MAIL_QUEUE, MailQueueModule } from '@accounts/mail';
import { basicAuth } from './basic-auth';

export const DASHBOARD_PATH = '/admin/queues';

/**
 * The dashboard is a single-page app: its scripts and styles come from its own path, and it sets
 * inline styles. This policy applies to the dashboard's answers only.
 */
const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

/**
 * The queue dashboard (bull-board) at /admin/queues: waiting, delayed, failed jobs of the mail
 * queue, failed ones retryable. Mounted only when ADMIN_USERNAME and ADMIN_PASSWORD are set, and
 * every path under it, its JSON API included, asks for those credentials (HTTP Basic).
 */
@Module({ imports: [MailQueueModule] })
export class QueueDashboardModule implements OnModuleInit {
  private readonly logger = new Logger('QueueDashboard');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(adminConfig.KEY) private readonly admin: ConfigType<typeof adminConfig>,
    @InjectQueue(MAIL_QUEUE) private readonly queue: Queue,
  ) {}

  onModuleInit(): void {
    const credentials = this.admin.dashboard;
    if (!credentials) return;
    const board = new BullBoardFastifyAdapter().setBasePath(DASHBOARD_PATH);
    createBullBoard({
      queues: [new BullMQAdapter(this.queue, { allowRetries: true, readOnlyMode: false })],
      serverAdapter: board,
      options: { uiConfig: { boardTitle: 'Mail queue' } },
    });
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // An encapsulated scope: its hooks guard and label the dashboard's routes and no others.
    void fastify.register(
      async (scope) => {
        scope.addHook('onRequest', basicAuth(credentials, 'Queue dashboard'));
        scope.addHook('onSend', (_request, reply, payload, done) => {
          reply.header('Content-Security-Policy', DASHBOARD_CSP);
          done(null, payload);
        });
        await scope.register(board.registerPlugin());
      },
      { prefix: DASHBOARD_PATH },
    );
    this.logger.log(`Queue dashboard at ${DASHBOARD_PATH} (HTTP Basic, user ${credentials.username})`);
  }
}

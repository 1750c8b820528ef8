import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Queue } from 'bullmq';
import type { FastifyRequest } from 'fastify';
import { adminConfig } from '@accounts/config';
import { MAIL_QUEUE } from '@accounts/mail/contract';
import { MailQueueModule } from '@accounts/mail/outbox';
import { relaxedCsp } from '../../http/relaxed-csp.policy';
import { OpsListener } from '../ops.listener';
import { OpsModule } from '../ops.module';
import { basicAuth } from './basic-auth.check';

export const DASHBOARD_PATH = '/admin/queues';

/** The dashboard's answers only: a single-page app under its own path that posts back to it. */
const DASHBOARD_CSP = relaxedCsp("'self'");

/**
 * The writes the dashboard allows, by route (under DASHBOARD_PATH) and the statuses each accepts:
 * retrying failed jobs (their seals are checked again by the worker) and cleaning finished ones.
 * Editing a job's data, adding, promoting or removing a job, pausing or emptying the queue are
 * refused here, on the server: bull-board's `allowRetries` only hides buttons, and its
 * `readOnlyMode` would refuse retries too.
 */
const ALLOWED_WRITES: ReadonlyMap<string, { status?: readonly string[] }> = new Map([
  ['PUT /api/queues/:queueName/:jobId/retry', {}],
  ['PUT /api/queues/:queueName/retry/:queueStatus', { status: ['failed'] }],
  ['PUT /api/queues/:queueName/clean/:queueStatus', { status: ['failed', 'completed'] }],
]);

/** Whether a request only reads, or is one of the allowed writes. */
function isAllowedDashboardRequest(request: FastifyRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return true;
  const route = request.routeOptions.url;
  if (route === undefined || !route.startsWith(DASHBOARD_PATH)) return false;
  const allowed = ALLOWED_WRITES.get(`${request.method} ${route.slice(DASHBOARD_PATH.length)}`);
  if (!allowed) return false;
  const status = (request.params as { queueStatus?: string }).queueStatus;
  return allowed.status === undefined || (status !== undefined && allowed.status.includes(status));
}

/**
 * The queue dashboard (bull-board) at /admin/queues on the operators' listener: waiting, delayed,
 * failed jobs of the mail queue, failed ones retryable, nothing editable. Mounted only when
 * ADMIN_USERNAME and ADMIN_PASSWORD are set, and every path under it, its JSON API included, asks
 * for those credentials (HTTP Basic, failed attempts limited per client IP).
 */
@Module({ imports: [MailQueueModule, OpsModule] })
export class QueueDashboardModule implements OnModuleInit {
  private readonly logger = new Logger('QueueDashboard');

  constructor(
    private readonly ops: OpsListener,
    @Inject(adminConfig.KEY) private readonly admin: ConfigType<typeof adminConfig>,
    @InjectQueue(MAIL_QUEUE) private readonly queue: Queue,
  ) {}

  async onModuleInit(): Promise<void> {
    const credentials = this.admin.dashboard;
    if (!credentials) return;
    // Loaded only when the dashboard is mounted: bull-board, @fastify/static and ejs are ~100
    // modules a process without ADMIN_* credentials never uses.
    const [{ createBullBoard }, { BullMQAdapter }, { FastifyAdapter: BullBoardFastifyAdapter }] = await Promise.all([
      import('@bull-board/api'),
      import('@bull-board/api/bullMQAdapter'),
      import('@bull-board/fastify'),
    ]);
    const board = new BullBoardFastifyAdapter().setBasePath(DASHBOARD_PATH);
    createBullBoard({
      queues: [new BullMQAdapter(this.queue, { allowRetries: true, readOnlyMode: false })],
      serverAdapter: board,
      options: { uiConfig: { boardTitle: 'Mail queue' } },
    });
    // An encapsulated scope: its hooks guard and label the dashboard's routes and no others.
    void this.ops.server.register(
      async (scope) => {
        scope.addHook('onRequest', basicAuth(credentials, 'Queue dashboard'));
        scope.addHook('onRequest', async (request, reply) => {
          if (isAllowedDashboardRequest(request)) return;
          return reply
            .code(403)
            .header('Cache-Control', 'no-store')
            .type('text/plain; charset=utf-8')
            .send('The queue dashboard is read-only, except for retrying failed jobs and cleaning finished ones');
        });
        scope.addHook('onSend', (_request, reply, payload, done) => {
          reply.header('Content-Security-Policy', DASHBOARD_CSP);
          done(null, payload);
        });
        await scope.register(board.registerPlugin());
      },
      { prefix: DASHBOARD_PATH },
    );
    this.logger.log(`Queue dashboard at ${DASHBOARD_PATH} on the operators' port (HTTP Basic, user ${credentials.username})`);
  }
}

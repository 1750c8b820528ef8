import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiMetrics } from './api.metrics';

/**
 * Counts every answered request by route pattern (`request.routeOptions.url`), so
 * `/api/v1/auth/sessions/:id` is one series however many ids are asked for; refusals by a hook
 * (415, 429…) are counted under the route they were aimed at, unknown URLs as `unmatched`.
 */
export function countHttpRequests(app: NestFastifyApplication): void {
  const metrics = app.get(ApiMetrics);
  app.getHttpAdapter().getInstance().addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

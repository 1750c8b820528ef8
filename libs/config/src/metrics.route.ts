import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/**
 * GET /metrics: the Prometheus scrape of `registry`, never cached. Both processes serve their
 * metrics through this (the API on its operators' listener, the worker on WORKER_PORT).
 */
export function serveMetrics(server: FastifyInstance, registry: Registry): void {
  server.get('/metrics', async (_request, reply) => {
    const body = await registry.metrics();
    return reply.header('Cache-Control', 'no-store').type(registry.contentType).send(body);
  });
}

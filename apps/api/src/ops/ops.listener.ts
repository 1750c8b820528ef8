import type { AddressInfo } from 'node:net';
import helmet from '@fastify/helmet';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import Fastify, { type FastifyInstance } from 'fastify';
import { httpConfig } from '@accounts/config';

/** The dashboard's JSON API takes small bodies only. */
const OPS_BODY_LIMIT_BYTES = 16 * 1024;

/**
 * The operators' HTTP listener (OPS_HOST:OPS_PORT): metrics, API docs and the queue dashboard, none
 * of which the public port serves. A Fastify instance of its own, so nothing registered here can
 * surface on the public port; routes are added while the app is built and it listens once Nest has
 * bootstrapped, and closes with the app.
 */
@Injectable()
export class OpsListener implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly server: FastifyInstance;
  private readonly logger = new Logger('OpsListener');

  constructor(@Inject(httpConfig.KEY) private readonly http: ConfigType<typeof httpConfig>) {
    this.server = Fastify({ bodyLimit: OPS_BODY_LIMIT_BYTES, onProtoPoisoning: 'error', onConstructorPoisoning: 'error' });
    // The strict policy for everything here; docs and dashboard answer with a policy of their own.
    void this.server.register(helmet, {
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] } },
      referrerPolicy: { policy: 'no-referrer' },
      frameguard: { action: 'deny' },
      strictTransportSecurity: false,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const { port, host } = this.http.ops;
    try {
      await this.server.listen({ port, host });
    } catch (error) {
      // Named after the variables, so the operator knows it is not PORT that is taken.
      throw new Error(`operators' port OPS_HOST=${host} OPS_PORT=${port}: ${(error as Error).message}`);
    }
    this.logger.log(`Operators' endpoints (/metrics, /docs, /admin/queues) on ${this.url}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server.close();
  }

  /** Where it listens, e.g. http://127.0.0.1:3002 (IPv6 hosts in brackets). */
  get url(): string {
    const { address, port, family } = this.server.server.address() as AddressInfo;
    return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  }
}

import { registerAs } from '@nestjs/config';
import { Env } from './env';

/** The API's HTTP listener. */
export const httpConfig = registerAs('http', () => {
  const env = new Env();
  return {
    port: env.int('PORT', 3000, { min: 0, max: 65535 }),
    /** Proxy hops whose X-Forwarded-For is trusted; 0 trusts none. */
    trustProxy: env.int('TRUST_PROXY', 0, { min: 0, max: 10 }),
    corsOrigins: env.list('CORS_ORIGINS'),
    /**
     * The operators' listener (metrics, API docs, queue dashboard), apart from the public port.
     * Loopback by default, so an unconfigured deployment exposes none of it.
     */
    ops: {
      port: env.int('OPS_PORT', 3002, { min: 0, max: 65535 }),
      host: env.string('OPS_HOST', '127.0.0.1'),
    },
  };
});

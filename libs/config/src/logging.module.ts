import { hostname } from 'node:os';
import type { DynamicModule } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import pino, { type Logger } from 'pino';
import { appConfig } from './app.config';
import { logUncaughtExceptions, sharedLogDestination } from './log.destination';

/**
 * Paths whose values never reach a log line. The request and response serializers of the apps
 * already leave headers and bodies out; this catches anything passed along by mistake.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  ...['password', 'currentPassword', 'newPassword', 'token', 'refreshToken', 'accessToken'].flatMap((key) => [key, `*.${key}`]),
];

/**
 * The process's root logger: one JSON object per line on stdout, ISO times and level names, so
 * `docker compose logs` and any log shipper read it as is (humans: `| npx pino-pretty`).
 * Lines leave in batches, once per turn of the event loop, and whatever is buffered is written on
 * exit, a crash's own fatal line included (see log.destination.ts).
 */
export function createRootLogger(app: string, level: ConfigType<typeof appConfig>['logLevel']): Logger {
  const logger = pino(
    {
      level,
      base: { app, pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    sharedLogDestination(),
  );
  logUncaughtExceptions(logger);
  return logger;
}

/**
 * nestjs-pino for one process, at LOG_LEVEL. Lines logged while a request is handled carry its id:
 * they go to the child logger Fastify made for the request (`request.log`), which nestjs-pino's
 * middleware puts in the request's context, so each app gives its FastifyAdapter a root logger
 * (`loggerInstance`; the API's request lines: apps/api/src/http/request-logging.config.ts). A job's
 * lines in the worker carry its event likewise (JobLogContext). Other lines go to the root.
 */
export function loggingModuleFor(app: string): DynamicModule {
  return LoggerModule.forRootAsync({
    inject: [appConfig.KEY],
    useFactory: (config: ConfigType<typeof appConfig>) => ({
      pinoHttp: { logger: createRootLogger(app, config.logLevel) },
      useExisting: true,
    }),
  });
}

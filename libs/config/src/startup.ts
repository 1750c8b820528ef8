import { ConsoleLogger, Logger, type INestApplication, type LoggerService, type Type } from '@nestjs/common';
import type { ConfigFactory, ConfigType } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { appConfig } from './app.config';

/**
 * Loads every namespace a process uses once, before Nest builds anything, so a bad value fails
 * with its one-line ConfigError. (Inside Nest a failing config factory does not stop the providers
 * that depend on it: they would receive null and start connecting anyway.)
 */
export function validateConfig(namespaces: ConfigFactory[]): void {
  // Silenced: Nest loads the same namespaces again and prints their warnings once.
  Logger.overrideLogger(false);
  try {
    for (const load of namespaces) load();
  } finally {
    Logger.overrideLogger(new ConsoleLogger());
  }
}

/**
 * NestFactory.create with the logs held back until the module's JSON logger (nestjs-pino at
 * LOG_LEVEL, see loggingModuleFor) takes them; when the start fails none of Nest's multi-line
 * report is printed, so the caller's one line stays the only output.
 */
export async function createNestApp<T extends INestApplication>(module: Type<unknown>, adapter: AbstractHttpAdapter): Promise<T> {
  let app: T;
  try {
    app = await NestFactory.create<T>(module, adapter, { abortOnError: false, bufferLogs: true, autoFlushLogs: false });
  } catch (error) {
    Logger.overrideLogger(false);
    Logger.flush();
    throw error;
  }
  const logger = app.get(PinoLogger);
  app.useLogger(app.get<ConfigType<typeof appConfig>>(appConfig.KEY).runtime === 'development' ? logger : withoutRouteTable(logger));
  app.flushLogs();
  // After a graceful close on SIGTERM/SIGINT the process exits 0 (Nest's default re-raises the
  // signal, which reports the clean shutdown as a death by signal, exit status 143).
  app.enableShutdownHooks(undefined, { useProcessExit: true });
  return app;
}

/** Nest's route table, a line per route at every start: worth reading while developing only. */
const ROUTE_TABLE_CONTEXTS: unknown[] = ['RoutesResolver', 'RouterExplorer'];

/** `logger` without the route table. Nest passes a line's context as its last parameter. */
function withoutRouteTable(logger: LoggerService): LoggerService {
  return {
    log: (message: unknown, ...params: unknown[]) => {
      if (!ROUTE_TABLE_CONTEXTS.includes(params.at(-1))) logger.log(message, ...params);
    },
    error: (message: unknown, ...params: unknown[]) => logger.error(message, ...params),
    warn: (message: unknown, ...params: unknown[]) => logger.warn(message, ...params),
    debug: (message: unknown, ...params: unknown[]) => logger.debug?.(message, ...params),
    verbose: (message: unknown, ...params: unknown[]) => logger.verbose?.(message, ...params),
    fatal: (message: unknown, ...params: unknown[]) => logger.fatal?.(message, ...params),
  };
}

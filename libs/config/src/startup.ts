import { ConsoleLogger, Logger, type INestApplication, type Type } from '@nestjs/common';
import type { ConfigFactory } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';

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
  app.useLogger(app.get(PinoLogger));
  app.flushLogs();
  // After a graceful close on SIGTERM/SIGINT the process exits 0 (Nest's default re-raises the
  // signal, which reports the clean shutdown as a death by signal, exit status 143).
  app.enableShutdownHooks(undefined, { useProcessExit: true });
  return app;
}

import type { LogLevel } from '@nestjs/common';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const NEST_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
const DEPTH: Record<Level, number> = { silent: 0, fatal: 1, error: 2, warn: 3, info: 4, debug: 5, trace: 6 };

/** Nest's logger levels for a LOG_LEVEL value. */
export function nestLogLevels(level: Level): LogLevel[] {
  return NEST_LEVELS.slice(0, DEPTH[level]);
}

import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';

/** The base URL of an app listening on a free port (the worker listens on 0.0.0.0). */
export function baseUrlOf(app: INestApplication): string {
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
}

/**
 * The value of one series in a Prometheus text exposition, or undefined when it is absent.
 * `labels` must match the series' labels exactly (order does not matter).
 */
export function metricValue(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    const wanted = Object.entries(labels);
    if (wanted.length === Object.keys(found).length && wanted.every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

/**
 * Everything this process writes to stdout from now until `stop()`. The apps log through
 * process.stdout, so their JSON lines land here; `lines()` parses them.
 */
export class StdoutCapture {
  private readonly chunks: string[] = [];
  private readonly original = process.stdout.write.bind(process.stdout);

  constructor({ echo = false }: { echo?: boolean } = {}) {
    process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
      this.chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return echo ? (this.original as (...args: unknown[]) => boolean)(chunk, ...rest) : true;
    }) as typeof process.stdout.write;
  }

  get text(): string {
    return this.chunks.join('');
  }

  /** Every line that is a JSON object, parsed. */
  lines(): Array<Record<string, unknown>> {
    return this.text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  stop(): void {
    process.stdout.write = this.original as typeof process.stdout.write;
  }
}

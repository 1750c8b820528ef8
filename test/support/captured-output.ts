/**
 * Everything this process prints from now on (stdout, stderr and console, where the apps' logs
 * go), for tests that assert what logs never contain. `restore()` puts the streams back.
 */
export function captureOutput(): { text(): string; restore(): void } {
  const captured: string[] = [];
  const undo: Array<() => void> = [];
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    undo.push(() => {
      stream.write = original as typeof stream.write;
    });
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      captured.push(args.map(String).join(' '));
    });
    undo.push(() => spy.mockRestore());
  }
  return {
    text: () => captured.join(''),
    restore: () => {
      for (const step of undo.reverse()) step();
    },
  };
}

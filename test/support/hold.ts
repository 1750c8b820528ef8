/**
 * Holds the first call of `target[method]` until `release()`, before it runs or after it has (its
 * result kept back); later calls run as usual. For races that need one flow parked at a known point
 * while another runs. Restore with jest.restoreAllMocks().
 */
export function holdFirstCall<T extends object>(target: T, method: keyof T & string, when: 'before' | 'after' = 'before') {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const original = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
  let held = false;
  let reached = false;
  jest.spyOn(target, method as never).mockImplementation((async (...args: unknown[]) => {
    if (held) return original(...args);
    held = true;
    const result = when === 'after' ? await original(...args) : undefined;
    reached = true;
    await gate;
    return when === 'after' ? result : original(...args);
  }) as never);
  return { release, reached: () => reached };
}

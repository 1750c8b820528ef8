/** The one way tests wait for something to happen: poll, with a deadline and a message that says what never came. */
const INTERVAL_MS = 50;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reads `probe` until `accept` holds for its value, at most `timeoutMs`; returns that value.
 * `describe` turns the last value into the failure message (default: the value as JSON).
 */
export async function pollUntil<T>(
  probe: () => T | Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
  describe: (last: T) => string = (last) => `condition not met within ${timeoutMs} ms (last value: ${JSON.stringify(last)})`,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(describe(value));
    await sleep(INTERVAL_MS);
  }
}

/** Polls `check` until it holds, at most `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  await pollUntil(check, Boolean, timeoutMs, () => `timed out after ${timeoutMs} ms waiting for ${what}`);
}

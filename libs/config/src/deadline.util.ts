/**
 * `work`'s outcome, or `onTimeout()`'s (its value, or what it throws) when `ms` pass first. The
 * timer never outlives the race; `work` itself is not cancelled, only no longer waited for.
 */
export async function withinDeadline<T, F = never>(work: Promise<T>, ms: number, onTimeout: () => F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<F>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error);
      }
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

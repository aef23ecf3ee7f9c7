/**
 * Waits `ms`, or less when `signal` aborts: a stopping task or command wakes at once instead of finishing its wait.
 * Resolves in both cases (never rejects), so a caller checks its own stop flag after the wait.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

import type { Logger } from '../api/index.js';

/**
 * The process-level last resort of a long-running worker: an exception or rejection nobody handled is logged
 * (redacted, like every log line) and the worker keeps serving, instead of Node ending the process. Each
 * request already has its own guard (runtime/rest/server.ts); this catches what escapes everything else.
 * Returns a function that removes the handlers.
 */
export function keepServingOnUncaughtErrors(logger: Logger, proc: NodeJS.Process = process): () => void {
  const onException = (error: Error): void => {
    safely(() => logger.error('Uncaught exception; the worker keeps serving', { error }));
  };
  const onRejection = (reason: unknown): void => {
    safely(() => logger.error('Unhandled promise rejection; the worker keeps serving', { error: reason }));
  };
  proc.on('uncaughtException', onException);
  proc.on('unhandledRejection', onRejection);
  return () => {
    proc.off('uncaughtException', onException);
    proc.off('unhandledRejection', onRejection);
  };
}

function safely(f: () => void): void {
  try {
    f();
  } catch {
    // A logger that throws must not turn the last resort into the next uncaught exception.
  }
}

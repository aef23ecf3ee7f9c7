import type { Logger } from '../../runtime/api/index.js';

/**
 * The Transformation contract has no logger yet (runtime/api gap). SMTs that must report something
 * (a failed code-table refresh, an ignored outbox update) implement `setLogger`, which a runtime can call
 * after creating them; until then they log warnings and errors to stderr as JSON lines.
 */
export interface LoggerAware {
  setLogger(logger: Logger): void;
}

export function isLoggerAware(t: unknown): t is LoggerAware {
  return typeof (t as Partial<LoggerAware> | null)?.setLogger === 'function';
}

export function stderrLogger(context: Record<string, unknown>): Logger {
  const write = (level: string, msg: string, fields?: Record<string, unknown>): void => {
    const line = JSON.stringify({ level, ...context, msg, ...fields }, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    );
    process.stderr.write(`${line}\n`);
  };
  const logger: Logger = {
    trace() {},
    debug() {},
    info() {},
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (more) => stderrLogger({ ...context, ...more }),
  };
  return logger;
}

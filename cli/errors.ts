import { ConfigError, DataError, ErpStreamError, PluginNotFoundError, SchemaError } from '../runtime/api/index.js';
import { IntegrationError } from '../integrations/problems.js';

/**
 * Exit codes every erpstream command keeps (scripts and CI depend on them):
 * 0 ok · 1 runtime failure · 2 invalid input (flags, files, configs, records) · 3 cannot reach the cluster.
 */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  INVALID_INPUT: 2,
  UNREACHABLE: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports as is: what went wrong, what to do about it, and the exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;

  constructor(message: string, options: { exitCode: ExitCode; hint?: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode;
    this.hint = options.hint;
  }

  static invalidInput(message: string, hint?: string, cause?: unknown): CliError {
    return new CliError(message, { exitCode: ExitCode.INVALID_INPUT, ...(hint ? { hint } : {}), cause });
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** Driver codes of a refused database login: PostgreSQL 28P01/28000, MySQL/MariaDB access denied, SQL Server. */
const DB_LOGIN_REFUSED = new Set(['28P01', '28000', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ELOGIN']);

function systemCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.length > 0) return code;
  }
  return undefined;
}

export interface ClassifiedError {
  exitCode: ExitCode;
  message: string;
  hint: string;
}

/** Maps any thrown value to an exit code, a message naming the cause, and what to do next. */
export function classifyError(error: unknown): ClassifiedError {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof CliError) {
    return { exitCode: error.exitCode, message, hint: error.hint ?? defaultHint(error.exitCode) };
  }
  if (error instanceof IntegrationError) {
    return { exitCode: ExitCode.INVALID_INPUT, message, hint: error.hint };
  }
  if (error instanceof ConfigError || error instanceof PluginNotFoundError) {
    return {
      exitCode: ExitCode.INVALID_INPUT,
      message,
      hint: 'Fix the configuration key named above and run the command again.',
    };
  }
  if (error instanceof DataError || error instanceof SchemaError) {
    return { exitCode: ExitCode.INVALID_INPUT, message, hint: 'Fix the data named above and run the command again.' };
  }
  const code = systemCode(error);
  if ((code && NETWORK_CODES.has(code)) || (error instanceof ErpStreamError && error.retriable)) {
    return { exitCode: ExitCode.UNREACHABLE, message, hint: defaultHint(ExitCode.UNREACHABLE) };
  }
  if (code !== undefined && DB_LOGIN_REFUSED.has(code)) {
    // A wrong password in --connection-url or --pg-url is the user's input, not "unexpected, report it".
    return {
      exitCode: ExitCode.INVALID_INPUT,
      message: `The database refused the login: ${message}`,
      hint: 'Check the user and password of the database URL you passed (--connection-url, --pg-url, ERP_DB_URL or PG_URL) and that this user may connect to that database.',
    };
  }
  if (error instanceof ErpStreamError && error.code === 'ERPSTREAM_STATE_FILE_IN_USE') {
    return {
      exitCode: ExitCode.FAILURE,
      message,
      hint: 'Another worker runs with this worker config (`ps -p <pid>` shows it): stop it, or start this one with its own worker file (offset.storage.file.filename and listeners).',
    };
  }
  if (error instanceof ErpStreamError && error.code === 'ERPSTREAM_STATE_FILE') {
    return {
      exitCode: ExitCode.INVALID_INPUT,
      message,
      hint: 'Fix the file named above, or move it away to start afresh (its connectors or offsets are then gone).',
    };
  }
  if (code === 'EADDRINUSE') {
    return {
      exitCode: ExitCode.FAILURE,
      message: `The port is taken: ${message}.`,
      hint: 'Another process (another worker?) listens there: stop it, or pick a free port with --listeners http://127.0.0.1:<port> (or `listeners` in the worker config).',
    };
  }
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
    return { exitCode: ExitCode.INVALID_INPUT, message, hint: 'Check the file path and its permissions.' };
  }
  return { exitCode: ExitCode.FAILURE, message, hint: defaultHint(ExitCode.FAILURE) };
}

function defaultHint(code: ExitCode): string {
  switch (code) {
    case ExitCode.INVALID_INPUT:
      return 'Fix the input named above; `erpstream <command> --help` shows the usage.';
    case ExitCode.UNREACHABLE:
      return 'Check that the cluster is running and that its URL is right, then retry.';
    default:
      return 'This is unexpected: rerun with ERPSTREAM_DEBUG=1 for the stack trace and report it with the command you ran.';
  }
}

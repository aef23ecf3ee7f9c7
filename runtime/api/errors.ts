import { type ErrorCode, type RetriableErrorCode, errorCatalog, formatErrorMessage } from './error-codes.js';

export * from './error-codes.js';

export interface ErpStreamErrorOptions {
  /** Overrides the catalog's default for this code. */
  retriable?: boolean;
  cause?: unknown;
  /** Fills the catalog's message template when no message is given. */
  params?: Readonly<Record<string, unknown>>;
}

/**
 * Typed errors with stable codes. Every error a user can see carries a code from the catalog (./error-codes.ts)
 * they can search for, and a `retriable` flag the runtime uses to decide between retrying and failing the task.
 */
export class ErpStreamError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message?: string, options: ErpStreamErrorOptions = {}) {
    super(
      message ?? formatErrorMessage(code, options.params),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? errorCatalog[code].retriable;
  }
}

/** A config key is missing, malformed or out of range. Names the key and (unless secret) the value. */
export class ConfigError extends ErpStreamError {
  readonly key: string | undefined;

  constructor(message: string, key?: string) {
    super('ERPSTREAM_CONFIG', message);
    this.key = key;
  }

  /** Connect's wording, value as Java prints it (strings unquoted): tools and users grep for it. */
  static invalid(key: string, value: unknown, reason: string): ConfigError {
    const shown = typeof value === 'string' ? value : describeValue(value);
    return new ConfigError(`Invalid value ${shown} for configuration ${key}: ${reason}`, key);
  }

  static missing(key: string): ConfigError {
    return new ConfigError(`Missing required configuration "${key}" which has no default value.`, key);
  }
}

/** A record or value does not fit what a transform, converter or schema expects. */
export class DataError extends ErpStreamError {
  readonly fieldPath: string | undefined;

  constructor(message: string, fieldPath?: string, options: { cause?: unknown } = {}) {
    super('ERPSTREAM_DATA', message, options);
    this.fieldPath = fieldPath;
  }
}

/** A schema is invalid or two schemas are incompatible. */
export class SchemaError extends ErpStreamError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERPSTREAM_SCHEMA', message, options);
  }
}

/** A transient failure (connection dropped, broker not available): the runtime retries these. */
export class RetriableError extends ErpStreamError {
  constructor(message: string, options: { cause?: unknown; code?: RetriableErrorCode } = {}) {
    super(options.code ?? 'ERPSTREAM_RETRIABLE', message, { retriable: true, cause: options.cause });
  }
}

/** A class or alias that no installed plugin provides. */
export class PluginNotFoundError extends ErpStreamError {
  constructor(kind: string, name: string, known: readonly string[] = []) {
    const hint = known.length > 0 ? ` Known ${kind} plugins: ${known.join(', ')}.` : '';
    super('ERPSTREAM_PLUGIN_NOT_FOUND', `Unknown ${kind} plugin "${name}".${hint}`);
  }
}

/*
 * Domain errors of the worker's requests (herders, operations). They say what went wrong, not which HTTP status
 * answers it: runtime/rest/error-status.ts maps their codes at the REST edge.
 */

/** The connector, task, customer or operation a request names does not exist. */
export class NotFoundError extends ErpStreamError {
  constructor(message: string) {
    super('ERPSTREAM_NOT_FOUND', message);
  }
}

/** A connector of that name exists already. */
export class AlreadyExistsError extends ErpStreamError {
  constructor(message: string) {
    super('ERPSTREAM_ALREADY_EXISTS', message);
  }
}

/** A request that is malformed, or not allowed in the current state. */
export class InvalidRequestError extends ErpStreamError {
  constructor(message: string) {
    super('ERPSTREAM_INVALID_REQUEST', message);
  }
}

/** The worker group is rebalancing or its leader cannot be reached: the client retries (Connect's 409). */
export class RebalanceInProgressError extends ErpStreamError {
  constructor(message = formatErrorMessage('ERPSTREAM_REBALANCE_IN_PROGRESS')) {
    super('ERPSTREAM_REBALANCE_IN_PROGRESS', message);
  }
}

/** The worker config turns off what the request needs. */
export class FeatureDisabledError extends ErpStreamError {
  constructor(message: string) {
    super('ERPSTREAM_FEATURE_DISABLED', message);
  }
}

/** A valid request this worker mode does not support (yet). */
export class NotSupportedError extends ErpStreamError {
  constructor(message: string) {
    super('ERPSTREAM_NOT_SUPPORTED', message);
  }
}

/**
 * The group leader refused a request this worker forwarded to it. `leaderStatus` is the leader's answer, kept
 * as data so the REST edge can pass it on unchanged (the leader already chose it from the error's code).
 */
export class LeaderRefusedError extends ErpStreamError {
  constructor(
    readonly leaderStatus: number,
    message: string,
  ) {
    super('ERPSTREAM_LEADER_REFUSED', message);
  }
}

/**
 * Text cut after `max` characters, saying how many more there were: for text that may quote a record (an error's
 * message, a key) in a DLQ header or a log line, where a 10 MB poison record would otherwise be copied whole.
 */
export function boundedText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** How a value is shown in an error message: its JSON form, shortened, with its JS type. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value.toString()} (int64)`;
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  if (text.length > 80) text = `${text.slice(0, 77)}...`;
  return text;
}

import { DataError, ErpStreamError } from '../api/index.js';

/**
 * A transformation or predicate threw while handling a record. Names the alias the user wrote in the
 * connector config and the class behind it, and keeps the original error as `cause` (with its field
 * path when it was a DataError), so the runtime's retry/tolerance/DLQ handling can report it in full.
 */
export class TransformError extends ErpStreamError {
  readonly alias: string;
  readonly className: string;
  /** `transform` when the SMT itself failed, `predicate` when its predicate's test() failed. */
  readonly stage: 'transform' | 'predicate';
  readonly fieldPath: string | undefined;

  constructor(
    alias: string,
    className: string,
    cause: unknown,
    options: { stage?: 'transform' | 'predicate'; predicateAlias?: string } = {},
  ) {
    const stage = options.stage ?? 'transform';
    const fieldPath = cause instanceof DataError ? cause.fieldPath : undefined;
    const causeMessage = cause instanceof Error ? cause.message : String(cause);
    const who =
      stage === 'predicate'
        ? `Predicate '${options.predicateAlias ?? '?'}' (${className}) of transform '${alias}'`
        : `Transform '${alias}' (${className})`;
    const where = fieldPath !== undefined && !causeMessage.includes(fieldPath) ? ` [field: ${fieldPath}]` : '';
    super('ERPSTREAM_TRANSFORM', `${who} failed: ${causeMessage}${where}`, {
      cause,
      // A transient failure inside a transform (e.g. a lookup table reload) may succeed when retried.
      retriable: cause instanceof ErpStreamError && cause.retriable,
    });
    this.alias = alias;
    this.className = className;
    this.stage = stage;
    this.fieldPath = fieldPath;
  }
}

import { DataError, ErpStreamError } from '../../runtime/api/index.js';

/**
 * Driver codes of errors a single bound value causes (a string for an integer column, a number out of range, a
 * malformed uuid): the query is fine, one id is not. Other failures (a syntax error, a missing table) would fail for
 * every id, so splitting the batch would only send every record to the DLQ: they fail the batch as before.
 */
const MYSQL_VALUE_ERRORS = new Set([1264, 1265, 1292, 1366, 1367, 1406, 1411, 3140]);
const SQLSERVER_VALUE_ERRORS = new Set([220, 244, 245, 248, 8114, 8115, 8169]);

/** Whether a database error was caused by a value bound to the statement (PostgreSQL SQLSTATE class 22, …). */
export function isValueError(e: unknown): boolean {
  if (!(e instanceof DataError)) return false;
  const cause = (e as { cause?: unknown }).cause as { code?: unknown; errno?: unknown; number?: unknown } | undefined;
  if (!cause) return false;
  if (typeof cause.code === 'string' && /^22[0-9A-Z]{3}$/.test(cause.code)) return true;
  if (typeof cause.errno === 'number' && MYSQL_VALUE_ERRORS.has(cause.errno)) return true;
  return typeof cause.number === 'number' && SQLSERVER_VALUE_ERRORS.has(cause.number);
}

/** Why an id was isolated: the database's own error (or the coercion found), for the DLQ message. */
export class PoisonIdError extends DataError {
  constructor(
    readonly idText: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, undefined, options);
  }
}

/**
 * Runs `query` on a batch; when it fails because of a value (isValueError) or `check` finds a part wrong, splits the
 * batch in halves until the ids at fault are alone, and reports only those as poison. Retriable and other errors are
 * thrown as they are. Cost: about 2·log2(n) extra queries per poison id; nothing extra when the batch is clean.
 */
export async function isolatePoison<T, R>(
  items: readonly T[],
  query: (part: readonly T[]) => Promise<R>,
  options: {
    /** A problem with this part's answer (e.g. a returned key that was not asked for), or null. */
    check?: (part: readonly T[], result: R) => Promise<string | null> | string | null;
    label: (item: T) => string;
  },
): Promise<{ results: R[]; poison: Map<string, Error> }> {
  const results: R[] = [];
  const poison = new Map<string, Error>();
  const run = async (part: readonly T[]): Promise<void> => {
    if (part.length === 0) return;
    let problem: Error | null = null;
    try {
      const r = await query(part);
      const wrong = options.check ? await options.check(part, r) : null;
      if (wrong === null) {
        results.push(r);
        return;
      }
      problem = new DataError(wrong);
    } catch (e) {
      if (e instanceof ErpStreamError && e.retriable) throw e;
      if (!isValueError(e)) throw e;
      problem = e as Error;
    }
    if (part.length === 1) {
      const id = options.label(part[0]!);
      poison.set(id, new PoisonIdError(id, problem.message, { cause: problem }));
      return;
    }
    const mid = Math.ceil(part.length / 2);
    await Promise.all([run(part.slice(0, mid)), run(part.slice(mid))]);
  };
  await run(items);
  return { results, poison };
}

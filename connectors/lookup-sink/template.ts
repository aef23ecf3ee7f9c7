import { ConfigError, DataError, describeValue } from '../../runtime/api/index.js';
import type { Row } from './sql/client.js';

/** A `${name}` text template (topic or table names), compiled once. */
export interface TextTemplate {
  readonly key: string;
  readonly text: string;
  readonly pieces: readonly string[];
  readonly names: readonly string[];
}

export function compileTopicTemplate(key: string, text: string): TextTemplate {
  const pieces: string[] = [];
  const names: string[] = [];
  const re = /\$\{([^}]*)\}/g;
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const name = m[1]!.trim();
    if (!name) throw ConfigError.invalid(key, text, 'Empty ${} placeholder');
    pieces.push(text.slice(last, m.index));
    names.push(name);
    last = m.index + m[0].length;
  }
  pieces.push(text.slice(last));
  return { key, text, pieces, names };
}

/** Row value of a column, matching case-insensitively when the exact name is absent (PostgreSQL folds to lower). */
export function rowValue(row: Row, column: string): unknown {
  if (Object.hasOwn(row, column)) return row[column];
  const lower = column.toLowerCase();
  for (const k of Object.keys(row)) if (k.toLowerCase() === lower) return row[k];
  return undefined;
}

/**
 * Renders the template from row fields plus `entity` and `id`. A missing or null field is a DataError (the
 * record cannot be routed), and so is a value that would make the name unsafe (a topic or identifier needs
 * letters, digits, `.`, `_`, `-`).
 */
/**
 * The longest target the ledger and the re-delivery queue hold (their target is varchar(512)). A longer one failed
 * their write for its whole batch, and the task restarted into the same record for ever.
 */
export const MAX_TARGET_LENGTH = 512;

export function renderTemplate(
  t: TextTemplate,
  row: Row,
  extra: Record<string, string>,
  maxLength = MAX_TARGET_LENGTH,
  what = 'the ledger holds',
): string {
  let out = t.pieces[0]!;
  t.names.forEach((name, i) => {
    const v = Object.hasOwn(extra, name) ? extra[name] : rowValue(row, name);
    if (v === undefined || v === null || v === '') {
      throw new DataError(`${t.key} template ${JSON.stringify(t.text)}: row has no value for \${${name}}`, name);
    }
    const text = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : null;
    if (text === null || !/^[A-Za-z0-9._-]+$/.test(text)) {
      throw new DataError(
        // Shortened: the row's value may be large, and the message goes to the log and the DLQ headers.
        `${t.key} template ${JSON.stringify(t.text)}: value ${describeValue(String(v))} of \${${name}} is not a safe name part`,
        name,
      );
    }
    out += text + t.pieces[i + 1]!;
  });
  if (out.length > maxLength) {
    throw new DataError(
      `${t.key} template ${JSON.stringify(t.text)} gives a name of ${out.length} characters for this row: at most ${maxLength} (what ${what}); it starts ${JSON.stringify(out.slice(0, 60))}. Fix the value at its source, or use a shorter template`,
      t.names[0],
    );
  }
  return out;
}

/**
 * Whether a concrete name could come from this template (each placeholder stands for one or more characters). A
 * repair may name a target to withdraw from; only targets this connector could have written are accepted.
 *
 * A linear scan, not a regex: `^p0.+p1.+p2…$` backtracks polynomially in the value's length to the power of the
 * placeholders (4 placeholders against a 512-character target from a repair request held the worker's thread for
 * 20 s). The first piece is a prefix and the last a suffix; each middle piece is taken at its leftmost place after one
 * or more characters for the placeholder before it, which leaves the most room for the rest, so it matches exactly
 * what the regex matched.
 */
export function templateMatches(t: TextTemplate, value: string): boolean {
  const { pieces } = t;
  const last = pieces.length - 1;
  if (last === 0) return value === pieces[0];
  const prefix = pieces[0]!;
  const suffix = pieces[last]!;
  if (!value.startsWith(prefix) || !value.endsWith(suffix)) return false;
  // Where the suffix starts: the last placeholder needs one or more characters before it.
  const end = value.length - suffix.length;
  let pos = prefix.length;
  for (let i = 1; i < last; i++) {
    const piece = pieces[i]!;
    const at = value.indexOf(piece, pos + 1);
    if (at < 0) return false;
    pos = at + piece.length;
    if (pos >= end) return false;
  }
  return pos < end;
}

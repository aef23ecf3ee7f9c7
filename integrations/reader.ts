import { didYouMean, didYouMeanText } from '../runtime/worker/unknown-keys.js';
import { type Json, type JsonObject, isObject } from './documents.js';
import { type ProblemList, childPath } from './problems.js';

/**
 * Path-aware reading of a document section: every accessor checks the type and records a problem naming
 * the exact field, and unknown fields are reported (a typo such as `destinaton` must not pass silently).
 */

function describe(v: Json | undefined): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (isObject(v)) return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Connect stores every config value as a string. */
export function scalarText(v: Json): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export class Section {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly value: JsonObject,
    readonly problems: ProblemList,
    allowed?: readonly string[],
  ) {
    if (allowed) {
      for (const key of Object.keys(value)) {
        if (!allowed.includes(key)) {
          const guess = didYouMeanText(didYouMean(key, allowed));
          this.problem(key, `unknown field; expected one of: ${allowed.join(', ')}${guess ? `; ${guess}` : ''}`);
        }
      }
    }
  }

  at(key: string): string {
    return childPath(this.path, key);
  }

  problem(key: string | null, message: string): void {
    this.problems.add(this.file, key === null ? this.path : this.at(key), message);
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  str(
    key: string,
    opts: { required?: boolean; oneOf?: readonly string[]; pattern?: [RegExp, string] } = {},
  ): string | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) {
      if (opts.required) this.problem(key, 'required');
      return undefined;
    }
    const text = scalarText(v);
    if (text === undefined) {
      this.problem(key, `expected a string, found ${describe(v)}`);
      return undefined;
    }
    if (opts.required && text.trim() === '') {
      this.problem(key, 'must not be empty');
      return undefined;
    }
    if (opts.oneOf && !opts.oneOf.includes(text)) {
      this.problem(key, `"${text}" is not one of: ${opts.oneOf.join(', ')}`);
      return undefined;
    }
    if (opts.pattern && !opts.pattern[0].test(text)) {
      this.problem(key, `"${text}" is not valid: ${opts.pattern[1]}`);
      return undefined;
    }
    return text;
  }

  int(key: string, opts: { min?: number } = {}): number | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
      this.problem(key, `expected an integer, found ${describe(v)}`);
      return undefined;
    }
    if (opts.min !== undefined && n < opts.min) {
      this.problem(key, `${n} is below the minimum ${opts.min}`);
      return undefined;
    }
    return n;
  }

  bool(key: string): boolean | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    this.problem(key, `expected true or false, found ${describe(v)}`);
    return undefined;
  }

  /** A list of strings; a comma-separated string is accepted too (as Connect's LIST type). */
  list(key: string, opts: { required?: boolean } = {}): string[] | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) {
      if (opts.required) this.problem(key, 'required');
      return undefined;
    }
    if (typeof v === 'string')
      return v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    if (!Array.isArray(v)) {
      this.problem(key, `expected a list, found ${describe(v)}`);
      return undefined;
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      const text = scalarText(item);
      if (text === undefined)
        this.problems.add(this.file, childPath(this.at(key), i), `expected a string, found ${describe(item)}`);
      else out.push(text);
    });
    if (opts.required && out.length === 0) this.problem(key, 'must list at least one entry');
    return out;
  }

  /** A mapping of names to scalars (renames, code tables, raw connector keys), values as strings. */
  map(key: string): Array<[string, string]> | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) {
      this.problem(key, `expected a mapping, found ${describe(v)}`);
      return undefined;
    }
    const out: Array<[string, string]> = [];
    for (const [k, item] of Object.entries(v)) {
      const text = scalarText(item);
      if (text === undefined)
        this.problems.add(this.file, childPath(this.at(key), k), `expected a scalar, found ${describe(item)}`);
      else out.push([k, text]);
    }
    return out;
  }

  section(key: string, allowed?: readonly string[], opts: { required?: boolean } = {}): Section | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) {
      if (opts.required) this.problem(key, 'required');
      return undefined;
    }
    if (!isObject(v)) {
      this.problem(key, `expected a mapping, found ${describe(v)}`);
      return undefined;
    }
    return new Section(this.file, this.at(key), v, this.problems, allowed);
  }

  /** A mapping of named sub-sections (dependencies, sinks). */
  entries(key: string, allowed?: readonly string[]): Array<[string, Section]> {
    const parent = this.section(key);
    if (!parent) return [];
    const out: Array<[string, Section]> = [];
    for (const name of Object.keys(parent.value)) {
      const s = parent.section(name, allowed);
      if (s) out.push([name, s]);
    }
    return out;
  }

  /** A list of sub-sections (extra transforms). */
  items(key: string, allowed?: readonly string[]): Section[] {
    const v = this.value[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.problem(key, `expected a list, found ${describe(v)}`);
      return [];
    }
    const out: Section[] = [];
    v.forEach((item, i) => {
      const p = childPath(this.at(key), i);
      if (!isObject(item)) this.problems.add(this.file, p, `expected a mapping, found ${describe(item)}`);
      else out.push(new Section(this.file, p, item, this.problems, allowed));
    });
    return out;
  }
}

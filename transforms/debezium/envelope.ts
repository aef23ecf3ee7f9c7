import { type Schema, Struct, field } from '../../runtime/api/index.js';
import { isPlainObject } from '../support.js';

/**
 * Reading Debezium change-event envelopes (`before`, `after`, `source`, `op`, `ts_ms`) in both the
 * schema (Struct) and the schemaless (plain object) form, so every envelope-aware SMT agrees on what
 * an envelope is.
 */

export const Op = {
  CREATE: 'c',
  UPDATE: 'u',
  DELETE: 'd',
  READ: 'r',
  TRUNCATE: 't',
  MESSAGE: 'm',
} as const;

export interface Envelope {
  /** The envelope's schema, null when schemaless. */
  readonly schema: Schema | null;
  readonly value: Struct | Record<string, unknown>;
  readonly op: string | null;
  readonly before: unknown;
  readonly after: unknown;
  /** Schema of `before`/`after` (the row schema), null when schemaless. */
  readonly rowSchema: Schema | null;
}

/**
 * Returns the envelope view, or null when the value is not a change event (heartbeats, schema-change
 * events, plain rows). Debezium recognises an envelope by its schema name ending in `.Envelope`; we go by
 * shape instead (an `op` field plus `before`/`after`), which accepts every Debezium envelope and also the
 * schemaless JSON form read with `schemas.enable=false`, which carries no schema name.
 */
export function readEnvelope(schema: Schema | null, value: unknown): Envelope | null {
  if (value instanceof Struct) {
    const s = value.schema;
    const shaped =
      field(s, 'op') !== undefined && (field(s, 'after') !== undefined || field(s, 'before') !== undefined);
    if (!shaped) return null;
    const rowSchema = field(s, 'after')?.schema ?? field(s, 'before')?.schema ?? null;
    return {
      schema: schema ?? s,
      value,
      op: asString(value.getWithoutDefault('op')),
      before: field(s, 'before') ? value.getWithoutDefault('before') : null,
      after: field(s, 'after') ? value.getWithoutDefault('after') : null,
      rowSchema,
    };
  }
  if (schema === null && isPlainObject(value)) {
    if (typeof value.op !== 'string' || !('after' in value || 'before' in value)) return null;
    return {
      schema: null,
      value,
      op: value.op,
      before: value.before ?? null,
      after: value.after ?? null,
      rowSchema: null,
    };
  }
  return null;
}

function asString(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** The row a change event is about: `after`, or `before` for deletes. */
export function envelopeRow(env: Envelope): unknown {
  return env.after ?? env.before;
}

/** A top-level value of a Struct or plain object; undefined when there is no such field. */
export function readTopLevel(container: unknown, name: string): unknown {
  if (container instanceof Struct) {
    return field(container.schema, name) ? container.getWithoutDefault(name) : undefined;
  }
  if (isPlainObject(container)) return Object.hasOwn(container, name) ? container[name] : undefined;
  return undefined;
}

/** The schema of a top-level field of a struct schema, if any. */
export function fieldSchemaOf(schema: Schema | null | undefined, name: string): Schema | null {
  return (schema && field(schema, name)?.schema) ?? null;
}

import { type Schema, Struct, field } from '../../runtime/api/index.js';
import { envelopeRow, readEnvelope, readTopLevel } from '../debezium/envelope.js';

/**
 * How ERP SMTs find a field in a record's value: a dotted path from the value itself (`source.sequence`
 * in an envelope), or else in the changed row (`after`, or `before` for deletes), so one config works
 * both before and after unwrapping.
 */

export interface Found {
  readonly value: unknown;
  /** The field's schema when the value has one. */
  readonly schema: Schema | null;
}

function atPath(container: unknown, path: readonly string[]): Found | undefined {
  let current: unknown = container;
  let schema: Schema | null = container instanceof Struct ? container.schema : null;
  for (const part of path) {
    const next = readTopLevel(current, part);
    if (next === undefined) return undefined;
    schema = current instanceof Struct ? (field(current.schema, part)?.schema ?? null) : null;
    current = next;
  }
  return { value: current, schema };
}

/** The field at `path` (dot-separated), or undefined when neither the value nor its row has it. */
export function findField(valueSchema: Schema | null, value: unknown, path: string): Found | undefined {
  const parts = path.split('.');
  const direct = atPath(value, parts);
  if (direct !== undefined) return direct;
  const env = readEnvelope(valueSchema, value);
  return env ? atPath(envelopeRow(env), parts) : undefined;
}

/** A stable text identity for a key (Struct, object, primitive), for remembering keys across records. */
export function keyIdentity(key: unknown): string {
  if (key instanceof Struct) return `struct:${key.toString()}`;
  if (key instanceof Uint8Array) return `bytes:${Buffer.from(key).toString('base64')}`;
  if (key !== null && typeof key === 'object') {
    return `json:${JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`;
  }
  return `${typeof key}:${String(key)}`;
}

/**
 * Remembers what was derived for recent record keys, so a tombstone (which has only its key) can be
 * given the same correlation key or domain as the delete event just before it. Bounded by two
 * generations of `capacity` entries: when the current one fills up it becomes the old one and the
 * previous old one is dropped (evicting from the front of one big Map is slow in V8).
 */
export class KeyMemory<V> {
  private current = new Map<string, V>();
  private previous = new Map<string, V>();

  constructor(private readonly capacity = 10_000) {}

  /** `scope` (the topic) keeps equal keys of different tables apart. */
  remember(scope: string, key: unknown, value: V): void {
    if (key === null || key === undefined) return;
    if (this.current.size >= this.capacity) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(`${scope}\u0000${keyIdentity(key)}`, value);
  }

  recall(scope: string, key: unknown): V | undefined {
    if (key === null || key === undefined) return undefined;
    const id = `${scope}\u0000${keyIdentity(key)}`;
    return this.current.get(id) ?? this.previous.get(id);
  }
}

import { DataError, Headers, type SinkRecord, Struct, describeValue, field } from '../../runtime/api/index.js';

/** Headers of every delivered record: the source version, the entity and its id. */
export const VERSION_HEADER = 'erpstream.version';
export const ENTITY_HEADER = 'erpstream.entity';
export const ID_HEADER = 'erpstream.id';

/**
 * Reading the entity id and the source version from a record as the worker hands it over (after converters and
 * transforms): keys as primitives, Structs or plain objects; headers as strings, Buffers or numbers.
 */

/** An entity id: one text part per key column. Text keeps int64 and decimals exact and binds to any column type. */
export type EntityId = readonly string[];

export function idText(id: EntityId): string {
  return id.length === 1 ? id[0]! : JSON.stringify(id);
}

function fieldOf(container: unknown, name: string): unknown {
  if (container instanceof Struct) {
    const f = field(container.schema, name);
    return f === undefined ? undefined : container.getAt(f);
  }
  if (container instanceof Map) return container.get(name);
  if (container !== null && typeof container === 'object' && !(container instanceof Uint8Array)) {
    return (container as Record<string, unknown>)[name];
  }
  return undefined;
}

function hasField(container: unknown, name: string): boolean {
  if (container instanceof Struct) return field(container.schema, name) !== undefined;
  if (container instanceof Map) return container.has(name);
  return container !== null && typeof container === 'object' && Object.hasOwn(container, name);
}

/** Paths come from the connector's config (a few per task), read once per record: split once. */
const PATHS = new Map<string, readonly string[]>();
function pathParts(path: string): readonly string[] {
  let parts = PATHS.get(path);
  if (parts === undefined) {
    parts = path.split('.');
    if (PATHS.size < 1000) PATHS.set(path, parts);
  }
  return parts;
}

/** A dotted path; in a Debezium envelope (has `op`) the path is read from `after`, or `before` when after is null. */
export function readPath(value: unknown, path: string): unknown {
  let base = value;
  const parts = pathParts(path);
  if (hasField(value, 'op') && (hasField(value, 'after') || hasField(value, 'before')) && !hasField(value, parts[0]!)) {
    base = fieldOf(value, 'after') ?? fieldOf(value, 'before');
  }
  let cur = base;
  for (const part of parts) {
    cur = fieldOf(cur, part);
    if (cur === undefined || cur === null) return cur;
  }
  return cur;
}

function idPart(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (value !== null && typeof value === 'object' && typeof (value as object).toString === 'function') {
    const t = String(value);
    if (t !== '[object Object]') return t; // Decimal, Date-like values with an exact text form
  }
  throw new DataError(`Cannot read an entity id from ${where}: ${describeValue(value)}`, where);
}

/** What Connect's Struct.toString() makes of a struct key that went through StringConverter. */
const STRINGIFIED_STRUCT = /^Struct\{.*\}$/s;

/**
 * The longest id text (idText) the ledger and the park table hold: their entity_id is varchar(300). A longer id failed
 * their write for its whole batch (22001), and the task restarted into the same record for ever.
 */
export const MAX_ID_LENGTH = 300;

/** The id of a record, from its key or from the configured value fields; one too long to record is a DataError. */
export function entityIdOf(record: SinkRecord, keyColumns: readonly string[], idFields: readonly string[]): EntityId {
  const id = readEntityId(record, keyColumns, idFields);
  const length = id.length === 1 ? id[0]!.length : idText(id).length;
  if (length > MAX_ID_LENGTH) {
    const from =
      idFields.length > 0 ? `value field${idFields.length > 1 ? 's' : ''} ${idFields.join(', ')}` : 'record key';
    throw new DataError(
      `The entity id from the ${from} has ${length} characters: at most ${MAX_ID_LENGTH} fit the ledger's entity_id (varchar(${MAX_ID_LENGTH})); it starts ${JSON.stringify(idText(id).slice(0, 40))}. Fix the id at its source, or read a shorter one (lookup.id.field)`,
      idFields[0],
    );
  }
  return id;
}

function readEntityId(record: SinkRecord, keyColumns: readonly string[], idFields: readonly string[]): EntityId {
  if (idFields.length > 0) {
    return idFields.map((f) => {
      const v = readPath(record.value, f);
      if (v === undefined || v === null) {
        throw new DataError(`lookup.id.field ${f}: the record value has no value there (topic ${record.topic})`, f);
      }
      return idPart(v, `value field ${f}`);
    });
  }
  const key = record.key;
  if (typeof key === 'string' && STRINGIFIED_STRUCT.test(key)) {
    throw new DataError(
      `The record key at ${record.topic}-${record.kafkaPartition}@${record.kafkaOffset} is the text "${key}": the ` +
        'source wrote a struct key with StringConverter, which turns it into text. Set ' +
        'key.converter=org.apache.kafka.connect.json.JsonConverter (key.converter.schemas.enable=true) or ' +
        'io.confluent.connect.avro.AvroConverter on the source connector and on this sink (or on the worker).',
    );
  }
  if ((typeof key === 'number' || typeof key === 'string') && keyColumns.length === 1) return [String(key)];
  if (key === null || key === undefined) {
    throw new DataError(
      `Record at ${record.topic}-${record.kafkaPartition}@${record.kafkaOffset} has no key to read the id from`,
    );
  }
  if (key instanceof Struct || key instanceof Map || (typeof key === 'object' && !(key instanceof Uint8Array))) {
    if (keyColumns.every((c) => hasField(key, c)))
      return keyColumns.map((c) => idPart(fieldOf(key, c), `key field ${c}`));
    const names =
      key instanceof Struct
        ? (key.schema.fields ?? []).map((f) => f.name)
        : key instanceof Map
          ? [...key.keys()].map(String)
          : Object.keys(key);
    if (names.length === keyColumns.length) return names.map((n) => idPart(fieldOf(key, n), `key field ${n}`));
    throw new DataError(
      `The record key has fields ${names.join(', ')}; expected the key columns ${keyColumns.join(', ')} (or set lookup.id.field)`,
    );
  }
  if (keyColumns.length !== 1) {
    throw new DataError(`A primitive record key cannot fill the compound key ${keyColumns.join(', ')}`);
  }
  return [idPart(key, 'record key')];
}

/**
 * The largest version magnitude: the ledger's and the park table's version columns are numeric(20,0) (decimal(20,0)),
 * which hold every 64-bit sequence, LSN and rowversion. A longer version from a record failed the ledger's write for
 * its whole batch, and the task restarted into the same record for ever; it would also outrank every real version.
 */
const MAX_VERSION = 10n ** 20n - 1n;

/**
 * Versions are integers: sequence numbers, LSNs, rowversions (0x-hex), of at most 20 digits. Anything else is a
 * DataError naming the value.
 */
export function parseVersion(value: unknown, where: string): bigint {
  if (typeof value === 'bigint') return inVersionRange(value, value, where);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  // Read once per record: plain decimal digits (the usual header) are parsed without a copy or a regex.
  if (value instanceof Uint8Array) {
    const n = safeDigits(value);
    if (n >= 0) return BigInt(n);
  }
  let text: string | null = null;
  if (typeof value === 'string') text = value;
  else if (value instanceof Uint8Array)
    text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  if (text !== null) {
    const t = text.trim();
    const integer = /^[+-]?\d+$/.test(t) || /^0x[0-9a-f]+$/i.test(t);
    // Refused before BigInt reads a megabyte of digits; no version in range is this long.
    if (integer && t.length > 64) throw versionOutOfRange(t, where);
    if (integer) return inVersionRange(BigInt(t), t, where);
  }
  throw new DataError(`${where} is not an integer version: ${describeValue(value)}`, where);
}

function inVersionRange(v: bigint, value: bigint | string, where: string): bigint {
  if (v <= MAX_VERSION && v >= -MAX_VERSION) return v;
  throw versionOutOfRange(
    typeof value === 'bigint' && (v > 10n ** 40n || v < -(10n ** 40n))
      ? `a ${value.toString(16).length * 4}-bit integer`
      : String(value),
    where,
  );
}

function versionOutOfRange(text: string, where: string): DataError {
  const shown = text.length > 40 ? `${JSON.stringify(text.slice(0, 40))}… (${text.length} characters)` : text;
  return new DataError(
    `${where} is out of range: ${shown} (at most 20 digits, what the ledger's numeric(20,0) holds: every 64-bit sequence, LSN or rowversion fits); fix the version at its source`,
    where,
  );
}

/** The value of 1 to 15 ASCII digits (always a safe integer), or -1 for anything else. */
function safeDigits(bytes: Uint8Array): number {
  const len = bytes.length;
  if (len === 0 || len > 15) return -1;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const d = bytes[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

export function versionOf(record: SinkRecord, header: string, field: string | null): bigint {
  if (field !== null) {
    const v = readPath(record.value, field);
    if (v === undefined || v === null)
      throw new DataError(`version.field ${field}: the record value has no version there`, field);
    return parseVersion(v, `version.field ${field}`);
  }
  const h = Headers.last(record.headers, header);
  if (h === undefined || h.value === null || h.value === undefined) {
    throw new DataError(
      `Record at ${record.topic}-${record.kafkaPartition}@${record.kafkaOffset} has no header ${header}`,
      header,
    );
  }
  return parseVersion(h.value, `header ${header}`);
}

/** The parts of an id stored as idText(). */
export function idOf(text: string, parts: number): EntityId {
  return parts === 1 ? [text] : (JSON.parse(text) as string[]);
}

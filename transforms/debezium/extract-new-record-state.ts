import {
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  DataError,
  Headers,
  type RawConfig,
  type Schema,
  Schemas,
  Struct,
  type Transformation,
  type TransformationPlugin,
  Validators,
  field,
  isTombstone,
  newRecord,
} from '../../runtime/api/index.js';
import { PLUGIN_VERSION, type PlainObject, SchemaCache, isPlainObject } from '../support.js';
import { type Envelope, readEnvelope, readTopLevel } from './envelope.js';
import { PairSchemaCache, copyInto, optionalCopy, structBuilderLike } from './struct-utils.js';

/**
 * Debezium's `ExtractNewRecordState` ("unwrap"): replaces a change-event envelope by the row state
 * (`after`; `before` for rewritten deletes), with Debezium's delete/tombstone modes, metadata fields and
 * headers, routing by a row field, and dropping fields named in a header.
 */

const CLASS_NAME = 'io.debezium.transforms.ExtractNewRecordState';
const DELETED_FIELD = '__deleted';

export const DELETE_TOMBSTONE_MODES = [
  'drop',
  'tombstone',
  'rewrite',
  'rewrite-with-tombstone',
  'delete-to-tombstone',
] as const;
export type DeleteTombstoneMode = (typeof DELETE_TOMBSTONE_MODES)[number];

/**
 * What happens to a delete event and to the tombstone after it. `null-value` keeps the row schema with a
 * null value (Debezium's `tombstone` mode, which JDBC sinks read as a delete); `tombstone` is a true
 * tombstone (null schema and value).
 */
interface DeleteStrategy {
  readonly onDelete: 'drop' | 'null-value' | 'tombstone' | 'rewrite';
  readonly keepTombstones: boolean;
  readonly rewrite: boolean;
}

const STRATEGIES: Record<DeleteTombstoneMode, DeleteStrategy> = {
  drop: { onDelete: 'drop', keepTombstones: false, rewrite: false },
  tombstone: { onDelete: 'null-value', keepTombstones: false, rewrite: false },
  rewrite: { onDelete: 'rewrite', keepTombstones: false, rewrite: true },
  'rewrite-with-tombstone': { onDelete: 'rewrite', keepTombstones: true, rewrite: true },
  'delete-to-tombstone': { onDelete: 'tombstone', keepTombstones: false, rewrite: false },
};

export const extractNewRecordStateConfig = new ConfigDef()
  .define({
    name: 'delete.tombstone.handling.mode',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    validator: Validators.in(...DELETE_TOMBSTONE_MODES),
    documentation:
      'How delete events and the tombstones after them are emitted. drop: both removed; tombstone (the ' +
      'default when neither this nor the deprecated keys are set): the delete becomes a record with a null ' +
      'value, the original tombstone is removed; rewrite: the delete becomes the `before` row plus ' +
      '__deleted="true" (other rows get __deleted="false"), tombstones removed; rewrite-with-tombstone: as ' +
      'rewrite, tombstones kept; delete-to-tombstone: the delete becomes a tombstone (null schema and value), ' +
      'the original tombstone is removed.',
    example: 'rewrite',
  })
  .define({
    name: 'drop.tombstones',
    type: 'BOOLEAN',
    defaultValue: null,
    importance: 'LOW',
    documentation:
      'Deprecated (removed in Debezium 3.2): whether to remove tombstones (Debezium default true). Used only ' +
      'when delete.tombstone.handling.mode is not set.',
  })
  .define({
    name: 'delete.handling.mode',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    validator: Validators.inIgnoreCase('none', 'drop', 'rewrite'),
    documentation:
      'Deprecated (removed in Debezium 3.2): none (delete becomes a null value), drop (Debezium default) ' +
      'or rewrite (adds __deleted). Used only when delete.tombstone.handling.mode is not set.',
  })
  .define({
    name: 'route.by.field',
    type: 'STRING',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      'A row field whose value becomes the topic (from `after`, or `before` for deletes). A null value keeps the topic.',
  })
  .define({
    name: 'add.fields.prefix',
    type: 'STRING',
    defaultValue: '__',
    importance: 'LOW',
    documentation: 'Prefix of the metadata fields added with add.fields.',
  })
  .define({
    name: 'add.fields',
    type: 'LIST',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      'Envelope metadata to add to the row: op, ts_ms, source fields by name (lsn, table, …) or qualified ' +
      '(source.ts_ms → __source_ts_ms), transaction fields (id, total_order, data_collection_order), each ' +
      'optionally renamed with field:newName (prefix still applied).',
    example: 'op,table,lsn,source.ts_ms',
  })
  .define({
    name: 'add.headers.prefix',
    type: 'STRING',
    defaultValue: '__',
    importance: 'LOW',
    documentation: 'Prefix of the headers added with add.headers.',
  })
  .define({
    name: 'add.headers',
    type: 'LIST',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      'Envelope metadata to add as headers, same syntax as add.fields. Tombstones get the op header ("d") only.',
    example: 'op,source.ts_ms',
  })
  .define({
    name: 'drop.fields.header.name',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    documentation:
      'A header whose value (a list of names, or a comma-separated string) names fields to remove from the value.',
  })
  .define({
    name: 'drop.fields.from.key',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'LOW',
    documentation: 'Also remove the fields named by drop.fields.header.name from the key.',
  })
  .define({
    name: 'drop.fields.keep.schema.compatible',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation:
      'true: only optional fields are removed (so the schema stays compatible); false: listed fields are removed regardless.',
  });

/** Resolves the delete strategy from the current key or, for migrants, the deprecated pair. */
export function deleteStrategyOf(
  mode: string | null,
  dropTombstones: boolean | null,
  legacyMode: string | null,
): DeleteStrategy {
  if (mode) return STRATEGIES[mode as DeleteTombstoneMode];
  if (dropTombstones === null && legacyMode === null) return STRATEGIES.tombstone;
  const legacy = (legacyMode ?? 'drop').toLowerCase();
  return {
    onDelete: legacy === 'none' ? 'null-value' : legacy === 'rewrite' ? 'rewrite' : 'drop',
    keepTombstones: dropTombstones === false,
    rewrite: legacy === 'rewrite',
  };
}

const TRANSACTION_FIELDS = new Set(['id', 'total_order', 'data_collection_order']);

/** One entry of add.fields / add.headers: where to read it and the name to write. */
export interface FieldReference {
  /** `source`, `transaction`, or null for top-level envelope fields (op, ts_ms, ts_us, ts_ns). */
  readonly struct: string | null;
  readonly field: string;
  readonly newName: string;
}

export function parseFieldReferences(key: string, prefix: string, items: readonly string[]): FieldReference[] {
  return items.map((item) => {
    const parts = item.split(':');
    if (parts.length > 2 || parts.some((p) => p.trim() === '')) {
      throw ConfigError.invalid(key, item, 'Expected field, struct.field or field:newName');
    }
    const path = parts[0]!.trim().split('.');
    if (path.length > 2) throw ConfigError.invalid(key, item, 'Only one level of struct is supported (struct.field)');
    const fieldName = path.length === 1 ? path[0]! : path[1]!;
    const struct =
      path.length === 2
        ? path[0]!
        : ['op', 'ts_ms', 'ts_us', 'ts_ns'].includes(fieldName)
          ? null
          : TRANSACTION_FIELDS.has(fieldName)
            ? 'transaction'
            : 'source';
    const newName =
      parts.length === 2
        ? prefix + parts[1]!.trim()
        : prefix + (path.length === 1 ? fieldName : `${struct}_${fieldName}`);
    return { struct, field: fieldName, newName };
  });
}

/** The schema of a referenced field in an envelope schema; falls back to a top-level field of that name. */
function referenceSchema(ref: FieldReference, envelopeSchema: Schema): Schema | null {
  const parent = ref.struct === null ? envelopeSchema : (field(envelopeSchema, ref.struct)?.schema ?? null);
  const found = (parent && field(parent, ref.field)?.schema) ?? field(envelopeSchema, ref.field)?.schema;
  return found ? optionalCopy(found) : null;
}

function referenceValue(ref: FieldReference, env: Envelope['value']): { present: boolean; value: unknown } {
  const parent = ref.struct === null ? env : readTopLevel(env, ref.struct);
  const inParent = parent === null || parent === undefined ? undefined : readTopLevel(parent, ref.field);
  if (inParent !== undefined) return { present: true, value: inParent };
  const top = readTopLevel(env, ref.field);
  if (top !== undefined) return { present: true, value: top };
  // A parent that exists but is null (no transaction block during snapshots) still "has" the field.
  return { present: parent === null, value: null };
}

interface Extra {
  readonly name: string;
  readonly schema: Schema;
}

class ExtractNewRecordState implements Transformation {
  private strategy: DeleteStrategy = STRATEGIES.tombstone;
  private routeByField: string | null = null;
  private addFields: FieldReference[] = [];
  private addHeaders: FieldReference[] = [];
  private dropFieldsHeader: string | null = null;
  private dropFieldsFromKey = false;
  private dropKeepsCompatible = true;
  private readonly upsertSchemas = new PairSchemaCache<Schema>();
  private readonly deletedSchemas = new PairSchemaCache<Schema>();
  private readonly droppedSchemas = new SchemaCache<Map<string, Schema>>();

  configure(props: RawConfig): void {
    const c = extractNewRecordStateConfig.parse(props);
    this.strategy = deleteStrategyOf(
      c.stringOrNull('delete.tombstone.handling.mode') || null,
      c.get('drop.tombstones') as boolean | null,
      c.stringOrNull('delete.handling.mode'),
    );
    this.routeByField = c.string('route.by.field') || null;
    this.addFields = parseFieldReferences('add.fields', c.string('add.fields.prefix'), c.list('add.fields'));
    this.addHeaders = parseFieldReferences('add.headers', c.string('add.headers.prefix'), c.list('add.headers'));
    this.dropFieldsHeader = c.stringOrNull('drop.fields.header.name') || null;
    this.dropFieldsFromKey = c.bool('drop.fields.from.key');
    this.dropKeepsCompatible = c.bool('drop.fields.keep.schema.compatible');
  }

  apply(record: ConnectRecord): ConnectRecord | null {
    if (isTombstone(record)) {
      if (!this.strategy.keepTombstones) return null;
      const opHeader = this.addHeaders.find((h) => h.struct === null && h.field === 'op');
      return opHeader
        ? newRecord(record, { headers: Headers.add(record.headers, opHeader.newName, 'd', Schemas.STRING) })
        : record;
    }
    const env = readEnvelope(record.valueSchema, record.value);
    if (!env) return record;
    // A truncate or logical-message event has no row: there is nothing to unwrap.
    if (isNullish(env.after) && isNullish(env.before)) return null;

    const headers = this.envelopeHeaders(record.headers, env);
    const isDelete = isNullish(env.after);
    const row = isDelete ? env.before : env.after;
    const topic = this.routedTopic(record.topic, row);
    let out = newRecord(record, { topic, headers });

    if (isDelete) {
      switch (this.strategy.onDelete) {
        case 'drop':
          return null;
        case 'tombstone':
          return this.dropFields(newRecord(out, { valueSchema: null, value: null }));
        case 'null-value':
          return this.dropFields(newRecord(out, { valueSchema: env.rowSchema, value: null }));
        case 'rewrite':
          out = this.withExtras(out, env, row, 'true', this.deletedSchemas);
          return this.dropFields(out);
      }
    }
    out = this.withExtras(out, env, row, this.strategy.rewrite ? 'false' : null, this.upsertSchemas);
    return this.dropFields(out);
  }

  close(): void {}

  private routedTopic(topic: string, row: unknown): string {
    if (this.routeByField === null) return topic;
    const v = readTopLevel(row, this.routeByField);
    if (v === undefined) {
      throw new DataError(
        `ExtractNewRecordState: route.by.field "${this.routeByField}" is not a field of the row`,
        this.routeByField,
      );
    }
    return v === null || String(v).trim() === '' ? topic : String(v);
  }

  private envelopeHeaders(headers: Headers, env: Envelope): Headers {
    let out = headers;
    for (const ref of this.addHeaders) {
      if (env.schema) {
        const schema = referenceSchema(ref, env.schema);
        if (schema) out = Headers.add(out, ref.newName, referenceValue(ref, env.value).value, schema);
      } else {
        const { present, value } = referenceValue(ref, env.value);
        if (present) out = Headers.add(out, ref.newName, value, null);
      }
    }
    return out;
  }

  /** The row plus add.fields and, in rewrite modes, __deleted. */
  private withExtras(
    record: ConnectRecord,
    env: Envelope,
    row: unknown,
    deleted: 'true' | 'false' | null,
    cache: PairSchemaCache<Schema>,
  ): ConnectRecord {
    const values = new Map<string, unknown>();
    for (const ref of this.addFields) values.set(ref.newName, referenceValue(ref, env.value).value);
    if (deleted !== null) values.set(DELETED_FIELD, deleted);

    if (row instanceof Struct && env.schema) {
      const schema = cache.getOrCompute(row.schema, env.schema, () =>
        this.extendedSchema(row.schema, env.schema!, deleted !== null),
      );
      const out = copyInto(row, new Struct(schema));
      for (const f of schema.fields ?? []) if (values.has(f.name)) out.put(f.name, values.get(f.name));
      return newRecord(record, { valueSchema: schema, value: out });
    }
    if (isPlainObject(row)) {
      const out: PlainObject = { ...row };
      for (const [k, v] of values) out[k] = v;
      return newRecord(record, { valueSchema: null, value: out });
    }
    throw new DataError(
      `ExtractNewRecordState: the envelope's row must be a Struct (with schema) or an object (schemaless), found ${typeof row}`,
    );
  }

  private extendedSchema(rowSchema: Schema, envelopeSchema: Schema, withDeleted: boolean): Schema {
    // Debezium adds __deleted before the add.fields metadata.
    const extras: Extra[] = withDeleted ? [{ name: DELETED_FIELD, schema: Schemas.OPTIONAL_STRING }] : [];
    for (const ref of this.addFields) {
      const schema = referenceSchema(ref, envelopeSchema);
      if (schema) extras.push({ name: ref.newName, schema });
    }
    // Debezium rebuilds the row schema from its basics (name, version, doc, parameters), which makes the
    // unwrapped value schema required although `after` is optional in the envelope; we match its output.
    const b = structBuilderLike(rowSchema).optional(false);
    for (const f of rowSchema.fields ?? []) b.field(f.name, f.schema);
    for (const e of extras) if (!field(rowSchema, e.name)) b.field(e.name, e.schema);
    return b.build();
  }

  private dropFields(record: ConnectRecord): ConnectRecord {
    if (this.dropFieldsHeader === null) return record;
    const header = Headers.last(record.headers, this.dropFieldsHeader);
    const names = header ? namesFromHeader(header.value) : [];
    if (names.length === 0) return record;
    let out = record;
    if (this.dropFieldsFromKey && out.key !== null && out.key !== undefined) {
      const [keySchema, key] = this.without(out.keySchema, out.key, names);
      out = newRecord(out, { keySchema, key });
    }
    if (out.value !== null && out.value !== undefined) {
      const [valueSchema, value] = this.without(out.valueSchema, out.value, names);
      out = newRecord(out, { valueSchema, value });
    }
    return out;
  }

  private without(schema: Schema | null, value: unknown, names: string[]): [Schema | null, unknown] {
    if (value instanceof Struct) {
      const drop = (value.schema.fields ?? [])
        .filter((f) => names.includes(f.name) && (!this.dropKeepsCompatible || f.schema.optional))
        .map((f) => f.name);
      if (drop.length === 0) return [schema, value];
      const perSchema = this.droppedSchemas.getOrCompute(value.schema, () => new Map());
      const cacheKey = drop.join('\u0000');
      let reduced = perSchema.get(cacheKey);
      if (!reduced) {
        const b = structBuilderLike(value.schema);
        for (const f of value.schema.fields ?? []) if (!drop.includes(f.name)) b.field(f.name, f.schema);
        reduced = b.build();
        perSchema.set(cacheKey, reduced);
      }
      return [reduced, copyInto(value, new Struct(reduced))];
    }
    if (isPlainObject(value)) {
      const out: PlainObject = { ...value };
      for (const n of names) delete out[n];
      return [schema, out];
    }
    return [schema, value];
  }
}

function isNullish(v: unknown): boolean {
  return v === null || v === undefined;
}

function namesFromHeader(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string')
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return [];
}

export const extractNewRecordStatePlugin: TransformationPlugin = {
  type: 'transformation',
  className: CLASS_NAME,
  aliases: ['ExtractNewRecordState'],
  version: PLUGIN_VERSION,
  config: extractNewRecordStateConfig,
  summary: "Unwraps a Debezium change event to its row state (Debezium's ExtractNewRecordState)",
  example: {
    'transforms.unwrap.type': CLASS_NAME,
    'transforms.unwrap.delete.tombstone.handling.mode': 'rewrite',
    'transforms.unwrap.add.fields': 'op,table,source.ts_ms',
  },
  create: () => new ExtractNewRecordState(),
};

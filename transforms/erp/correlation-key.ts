import {
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  DataError,
  Decimal,
  Headers,
  type RawConfig,
  type Schema,
  SchemaBuilder,
  Schemas,
  Struct,
  type Transformation,
  type TransformationPlugin,
  Validators,
  isTombstone,
  newRecord,
} from '../../runtime/api/index.js';
import { optionalCopy } from '../debezium/struct-utils.js';
import { PLUGIN_VERSION } from '../support.js';
import { parsePairs } from './config-helpers.js';
import { KeyMemory, findField, type Found } from './record-fields.js';

/**
 * erpstream's CorrelationKey: keys a record by the aggregate it belongs to (a Phone by its person id) so
 * related records share a partition and stay in order, and names that id in a header. One chain can key
 * several tables differently (topic.fields). Tombstones get the key derived from their old key, or the
 * one computed for the delete event just before them.
 */

const CLASS_NAME = 'erpstream.transforms.CorrelationKey';

export const correlationKeyConfig = new ConfigDef()
  .define({
    name: 'fields',
    type: 'LIST',
    defaultValue: '',
    importance: 'HIGH',
    documentation:
      'Key fields for every topic without a topic.fields entry, each field[:keyName]. Values are read from ' +
      'the value, or from the changed row (after, or before for deletes) of a Debezium envelope.',
    example: 'person_id:personId',
  })
  .define({
    name: 'topic.fields',
    type: 'LIST',
    defaultValue: '',
    importance: 'HIGH',
    documentation:
      'Key fields per topic, topic:field[:keyName]; repeat a topic for several fields. Topics with neither ' +
      'an entry nor `fields` pass unchanged.',
    example: 'erp.public.phone:person_id:personId,erp.public.person:id:personId',
  })
  .define({
    name: 'key.mode',
    type: 'STRING',
    defaultValue: 'struct',
    importance: 'MEDIUM',
    validator: Validators.in('struct', 'field'),
    documentation:
      'struct: the key is a struct (schemaless: an object) of the key fields, named by keyName; field: the key ' +
      'is the single field value. Records share a partition only when their serialized keys are equal, so ' +
      'give related topics the same key names (struct) or use field.',
  })
  .define({
    name: 'header.name',
    type: 'STRING',
    defaultValue: 'erpstream.correlation.id',
    importance: 'LOW',
    validator: Validators.nonEmptyString(),
    documentation: 'Header carrying the correlation id as text (several fields joined by ":").',
  });

interface KeyField {
  readonly from: string;
  readonly name: string;
}
interface Derived {
  readonly keySchema: Schema | null;
  readonly key: unknown;
  readonly id: string | null;
}

function keyFields(key: string, items: readonly string[]): KeyField[] {
  return items.map((item) => {
    const parts = item.split(':').map((p) => p.trim());
    if (parts.length > 2 || parts.some((p) => p === ''))
      throw ConfigError.invalid(key, item, 'Expected field[:keyName]');
    return { from: parts[0]!, name: parts[1] ?? parts[0]! };
  });
}

function idText(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Decimal) return v.toString();
  return String(v);
}

class CorrelationKey implements Transformation {
  private defaults: KeyField[] = [];
  private perTopic = new Map<string, KeyField[]>();
  private fieldMode = false;
  private headerName = 'erpstream.correlation.id';
  private readonly memory = new KeyMemory<Derived>();
  private readonly keySchemas = new WeakMap<Schema, Map<string, Schema>>();

  configure(props: RawConfig): void {
    const c = correlationKeyConfig.parse(props);
    this.defaults = keyFields('fields', c.list('fields'));
    this.perTopic = new Map();
    for (const [topic, spec] of parsePairs('topic.fields', c.list('topic.fields'), 'topic:field[:keyName]')) {
      const list = this.perTopic.get(topic) ?? [];
      list.push(...keyFields('topic.fields', [spec]));
      this.perTopic.set(topic, list);
    }
    if (this.defaults.length === 0 && this.perTopic.size === 0) {
      throw new ConfigError('CorrelationKey needs fields or topic.fields', 'fields');
    }
    this.fieldMode = c.string('key.mode') === 'field';
    if (this.fieldMode) {
      for (const [topic, list] of [['(fields)', this.defaults] as const, ...this.perTopic]) {
        if (list.length > 1) {
          throw ConfigError.invalid(
            'key.mode',
            'field',
            `key.mode=field takes one field, ${topic} lists ${list.length}`,
          );
        }
      }
    }
    this.headerName = c.string('header.name');
  }

  apply(record: ConnectRecord): ConnectRecord {
    const spec = this.perTopic.get(record.topic) ?? this.defaults;
    if (spec.length === 0) return record;
    const derived = isTombstone(record) ? this.forTombstone(record, spec) : this.derive(record, spec);
    if (derived === undefined) return record;
    if (!isTombstone(record)) this.memory.remember(record.topic, record.key, derived);
    const headers =
      derived.id === null
        ? Headers.remove(record.headers, this.headerName)
        : Headers.set(record.headers, this.headerName, derived.id, Schemas.STRING);
    return newRecord(record, { keySchema: derived.keySchema, key: derived.key, headers });
  }

  close(): void {}

  private derive(record: ConnectRecord, spec: readonly KeyField[]): Derived {
    const found = spec.map((f) => {
      const hit = findField(record.valueSchema, record.value, f.from);
      if (hit === undefined) {
        throw new DataError(`CorrelationKey: field "${f.from}" is not in the record on ${record.topic}`, f.from);
      }
      return hit;
    });
    return this.build(spec, found, record.valueSchema !== null);
  }

  /** A tombstone has only its old key: read the fields from it, else reuse what its delete event got. */
  private forTombstone(record: ConnectRecord, spec: readonly KeyField[]): Derived | undefined {
    const fromKey = spec.map(
      (f) => findField(record.keySchema, record.key, f.from) ?? findField(record.keySchema, record.key, f.name),
    );
    if (fromKey.every((x) => x !== undefined)) return this.build(spec, fromKey as Found[], record.keySchema !== null);
    return this.memory.recall(record.topic, record.key);
  }

  private build(spec: readonly KeyField[], found: readonly Found[], withSchema: boolean): Derived {
    const values = found.map((x) => x.value ?? null);
    const id = values.some((v) => v === null) ? null : values.map(idText).join(':');
    if (this.fieldMode) {
      const hit = found[0]!;
      return { keySchema: withSchema ? (hit.schema ?? null) : null, key: hit.value ?? null, id };
    }
    if (!withSchema || found.some((x) => x.schema === null)) {
      const key: Record<string, unknown> = {};
      spec.forEach((f, i) => (key[f.name] = values[i]));
      return { keySchema: null, key, id };
    }
    const schema = this.keySchema(spec, found);
    const key = new Struct(schema);
    spec.forEach((f, i) => key.put(f.name, values[i]));
    return { keySchema: schema, key, id };
  }

  private keySchema(spec: readonly KeyField[], found: readonly Found[]): Schema {
    // Keyed by the first field's schema identity plus the names, so the same input builds one key schema.
    const anchor = found[0]!.schema!;
    const cacheKey = spec
      .map((f, i) => `${f.name}\u0001${found[i]!.schema!.type}\u0001${found[i]!.schema!.optional}`)
      .join('\u0000');
    let perAnchor = this.keySchemas.get(anchor);
    const hit = perAnchor?.get(cacheKey);
    if (hit) return hit;
    const b = SchemaBuilder.struct();
    spec.forEach((f, i) => {
      const s = found[i]!.schema!;
      b.field(f.name, found[i]!.value === null && !s.optional ? optionalCopy(s) : s);
    });
    const schema = b.build();
    perAnchor ??= new Map();
    perAnchor.set(cacheKey, schema);
    this.keySchemas.set(anchor, perAnchor);
    return schema;
  }
}

export const correlationKeyPlugin: TransformationPlugin = {
  type: 'transformation',
  className: CLASS_NAME,
  aliases: ['CorrelationKey'],
  version: PLUGIN_VERSION,
  config: correlationKeyConfig,
  summary: 'Keys records by the aggregate they belong to (e.g. a Phone by its person id) and sets a correlation header',
  example: {
    'transforms.correlate.type': CLASS_NAME,
    'transforms.correlate.topic.fields': 'erp.public.phone:person_id,erp.public.person:id',
    'transforms.correlate.key.mode': 'field',
  },
  create: () => new CorrelationKey(),
};

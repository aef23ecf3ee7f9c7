import {
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  DataError,
  type Schema,
  SchemaBuilder,
  Schemas,
  Struct,
  StructCopyPlan,
  TimestampType,
  type TransformationPlugin,
  isSinkRecord,
} from '../../runtime/api/index.js';
import {
  type PlainObject,
  SchemaCache,
  keyValueVariants,
  operatingSchema,
  operatingValue,
  requireMap,
  requireStruct,
  withOperating,
} from '../support.js';
import {
  REPLACE_NULL_WITH_DEFAULT,
  configuredTransform,
  copySchemaBasics,
  defineReplaceNullWithDefault,
} from './field-common.js';

/**
 * InsertField: adds the record's topic, partition, offset (sink records only), timestamp and/or a
 * static string. A field name ending in `!` is required in the new schema, `?` (the default) optional.
 */

const PURPOSE = 'field insertion';
const SUFFIX_DOC =
  'Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default).';

const TOPIC = 'topic.field';
const PARTITION = 'partition.field';
const OFFSET = 'offset.field';
const TIMESTAMP = 'timestamp.field';
const STATIC_FIELD = 'static.field';
const STATIC_VALUE = 'static.value';

const optionalString = (name: string, documentation: string) =>
  ({ name, type: 'STRING', defaultValue: null, importance: 'MEDIUM', documentation }) as const;

export const insertFieldConfig = defineReplaceNullWithDefault(
  new ConfigDef()
    .define(optionalString(TOPIC, `Field name for Kafka topic. ${SUFFIX_DOC}`))
    .define(optionalString(PARTITION, `Field name for Kafka partition. ${SUFFIX_DOC}`))
    .define(
      optionalString(OFFSET, `Field name for Kafka offset - only applicable to sink connectors.<br/>${SUFFIX_DOC}`),
    )
    .define(optionalString(TIMESTAMP, `Field name for record timestamp. ${SUFFIX_DOC}`))
    .define(optionalString(STATIC_FIELD, `Field name for static data field. ${SUFFIX_DOC}`))
    .define(optionalString(STATIC_VALUE, 'Static field value, if field name configured.')),
);

interface InsertionSpec {
  readonly name: string;
  readonly optional: boolean;
}

function parseInsertion(spec: string | null): InsertionSpec | null {
  if (spec === null) return null;
  if (spec.endsWith('?')) return { name: spec.slice(0, -1), optional: true };
  if (spec.endsWith('!')) return { name: spec.slice(0, -1), optional: false };
  return { name: spec, optional: true };
}

/** One inserted field: its schema per optionality and how its value is read off the record. */
interface Insertion {
  readonly spec: InsertionSpec;
  readonly schema: Schema;
  /** undefined means "skip" (Connect skips a null partition or timestamp). */
  readonly withSchema: (record: ConnectRecord) => unknown;
  readonly schemaless: (record: ConnectRecord) => unknown;
}

function requireSinkOffset(record: ConnectRecord): bigint {
  if (!isSinkRecord(record)) {
    throw new DataError(
      `Only SinkRecord supported for [${PURPOSE}], found: SourceRecord (${OFFSET} is only available to sink connectors)`,
      OFFSET,
    );
  }
  return record.kafkaOffset;
}

export const insertFieldPlugins: TransformationPlugin[] = keyValueVariants({
  className: 'org.apache.kafka.connect.transforms.InsertField',
  summary: 'Insert the topic, partition, offset, timestamp or a static value as a field',
  config: insertFieldConfig,
  example: {
    'transforms.meta.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
    'transforms.meta.topic.field': 'source_topic!',
    'transforms.meta.timestamp.field': 'kafka_ts',
    'transforms.meta.static.field': 'tenant',
    'transforms.meta.static.value': 'acme',
  },
  create: (side) =>
    configuredTransform(insertFieldConfig, side, (cfg) => {
      const spec = (key: string) => parseInsertion(cfg.stringOrNull(key));
      const staticField = spec(STATIC_FIELD);
      const staticValue = cfg.stringOrNull(STATIC_VALUE);
      const candidates: Array<[InsertionSpec | null, Omit<Insertion, 'spec'>]> = [
        [spec(TOPIC), { schema: Schemas.STRING, withSchema: (r) => r.topic, schemaless: (r) => r.topic }],
        [
          spec(PARTITION),
          {
            schema: Schemas.INT32,
            withSchema: (r) => r.kafkaPartition ?? undefined,
            schemaless: (r) => r.kafkaPartition ?? undefined,
          },
        ],
        [spec(OFFSET), { schema: Schemas.INT64, withSchema: requireSinkOffset, schemaless: requireSinkOffset }],
        [
          spec(TIMESTAMP),
          {
            schema: TimestampType.schema(),
            withSchema: (r) => (r.timestamp === null ? undefined : new Date(r.timestamp)),
            // Connect puts the epoch-ms Long here; int64 is a bigint in our value model.
            schemaless: (r) => (r.timestamp === null ? undefined : BigInt(r.timestamp)),
          },
        ],
        [staticField, { schema: Schemas.STRING, withSchema: () => staticValue, schemaless: () => staticValue }],
      ];
      const insertions: Insertion[] = candidates
        .filter((c): c is [InsertionSpec, Omit<Insertion, 'spec'>] => c[0] !== null)
        .map(([s, rest]) => ({
          ...rest,
          spec: s,
          schema: s.optional ? SchemaBuilder.from(rest.schema).optional().build() : rest.schema,
        }));
      if (insertions.length === 0) {
        throw new ConfigError(
          `No field insertion configured: set at least one of ${TOPIC}, ${PARTITION}, ${OFFSET}, ${TIMESTAMP}, ${STATIC_FIELD}`,
        );
      }
      if (staticField !== null && staticValue === null) {
        throw new ConfigError(
          `No value specified for static field: ${staticField.name} (set ${STATIC_VALUE})`,
          STATIC_VALUE,
        );
      }
      const replaceNull = cfg.bool(REPLACE_NULL_WITH_DEFAULT);
      // Per input schema: the output schema (input fields first, in order, then the insertions) and its copy.
      const cache = new SchemaCache<StructCopyPlan>();
      const plan = (schema: Schema): StructCopyPlan =>
        cache.getOrCompute(schema, () => {
          const builder = copySchemaBasics(schema, SchemaBuilder.struct());
          for (const f of schema.fields ?? []) builder.field(f.name, f.schema);
          for (const i of insertions) builder.field(i.spec.name, i.schema);
          const target = builder.build();
          return new StructCopyPlan(
            schema,
            target,
            (schema.fields ?? []).map((f) => [f, target.fields![f.index]!] as const),
          );
        });

      return (record: ConnectRecord) => {
        const value = operatingValue(record, side);
        if (value === null || value === undefined) return record;
        const schema = operatingSchema(record, side);
        if (schema === null) {
          const out: PlainObject = { ...requireMap(value, PURPOSE) };
          for (const i of insertions) {
            const v = i.schemaless(record);
            if (v !== undefined) out[i.spec.name] = v;
          }
          return withOperating(record, side, null, out);
        }
        const struct = requireStruct(value, PURPOSE);
        const copy = plan(struct.schema);
        const newSchema = copy.target;
        const out = new Struct(newSchema).copyFields(struct, copy, replaceNull);
        const outFields = newSchema.fields!;
        const first = struct.schema.fields?.length ?? 0;
        for (let k = 0; k < insertions.length; k++) {
          const v = insertions[k]!.withSchema(record);
          if (v !== undefined) out.putAt(outFields[first + k]!, v);
        }
        return withOperating(record, side, newSchema, out);
      };
    }),
});

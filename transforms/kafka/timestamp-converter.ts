import {
  boundedText,
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  DATE_NAME,
  DataError,
  DateType,
  type RawConfig,
  type Schema,
  SchemaBuilder,
  Schemas,
  Struct,
  TIMESTAMP_NAME,
  TIME_NAME,
  TimeType,
  TimestampType,
  type Transformation,
  Validators,
  describeValue,
  jsTypeOf,
} from '../../runtime/api/index.js';
import {
  SchemaCache,
  type Side,
  keyValueVariants,
  operatingSchema,
  operatingValue,
  requireMap,
  requireStructOrNull,
  withOperating,
} from '../support.js';
import {
  REPLACE_NULL_WITH_DEFAULT,
  copySchemaBasics,
  defineReplaceNullWithDefault,
  forField,
  readField,
} from './field-common.js';
import { type JavaDateFormat, compileJavaDateFormat, javaDateFormatValidator } from './java-date-format.js';
import { copyWithStructDefault } from './struct-default.js';

const FIELD = 'field';
const TARGET_TYPE = 'target.type';
const FORMAT = 'format';
const UNIX_PRECISION = 'unix.precision';
const PURPOSE = 'converting timestamp formats';

const TYPES = ['string', 'unix', 'Date', 'Time', 'Timestamp'] as const;
type TimestampKind = (typeof TYPES)[number];
const PRECISIONS = { seconds: 1_000_000_000n, milliseconds: 1_000_000n, microseconds: 1_000n, nanoseconds: 1n };
type Precision = keyof typeof PRECISIONS;

export const TIMESTAMP_CONVERTER_CONFIG = defineReplaceNullWithDefault(
  new ConfigDef()
    .define({
      name: FIELD,
      type: 'STRING',
      defaultValue: '',
      importance: 'HIGH',
      documentation: 'The field containing the timestamp, or empty if the entire value is a timestamp',
    })
    .define({
      name: TARGET_TYPE,
      type: 'STRING',
      validator: Validators.in(...TYPES),
      importance: 'HIGH',
      documentation: 'The desired timestamp representation: string, unix, Date, Time, or Timestamp',
    })
    .define({
      name: FORMAT,
      type: 'STRING',
      defaultValue: '',
      validator: javaDateFormatValidator(),
      importance: 'MEDIUM',
      documentation:
        'A SimpleDateFormat-compatible format for the timestamp (UTC). Used to generate the output when ' +
        'type=string or used to parse the input if the input is a string. Supported letters: ' +
        "y M L d D E u a H k K h m s S z Z X and 'quoted' text.",
    })
    .define({
      name: UNIX_PRECISION,
      type: 'STRING',
      defaultValue: 'milliseconds',
      validator: Validators.in('nanoseconds', 'microseconds', 'milliseconds', 'seconds'),
      importance: 'LOW',
      documentation:
        'The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. ' +
        'Used to generate the output when type=unix or used to parse the input if the input is a Long. ' +
        'Unix-to-unix conversions keep sub-millisecond digits; Date, Time, Timestamp and string hold milliseconds.',
    }),
);

const MS_PER_DAY = 86_400_000n;
const NANOS_PER_MS = 1_000_000n;
/** JS Date's range, ±100,000,000 days around the epoch. */
const MAX_MS = 8_640_000_000_000_000n;

const OPTIONAL_DATE = DateType.builder().optional().build();
const OPTIONAL_TIME = TimeType.builder().optional().build();
const OPTIONAL_TIMESTAMP = TimestampType.builder().optional().build();
const REQUIRED_DATE = DateType.schema();
const REQUIRED_TIME = TimeType.schema();
const REQUIRED_TIMESTAMP = TimestampType.schema();

function typeSchema(kind: TimestampKind, optional: boolean): Schema {
  switch (kind) {
    case 'string':
      return optional ? Schemas.OPTIONAL_STRING : Schemas.STRING;
    case 'unix':
      return optional ? Schemas.OPTIONAL_INT64 : Schemas.INT64;
    case 'Date':
      return optional ? OPTIONAL_DATE : REQUIRED_DATE;
    case 'Time':
      return optional ? OPTIONAL_TIME : REQUIRED_TIME;
    case 'Timestamp':
      return optional ? OPTIONAL_TIMESTAMP : REQUIRED_TIMESTAMP;
  }
}

/** Connect's timestampTypeFromSchema: the logical name wins, then STRING → string and INT64 → unix. */
function kindFromSchema(schema: Schema, field: string | undefined): TimestampKind {
  if (schema.name === TIMESTAMP_NAME) return 'Timestamp';
  if (schema.name === DATE_NAME) return 'Date';
  if (schema.name === TIME_NAME) return 'Time';
  if (schema.type === 'string') return 'string';
  if (schema.type === 'int64') return 'unix';
  const shown = schema.name ? `${schema.type} (${schema.name})` : schema.type;
  throw new DataError(`Schema ${shown}${forField(field)} does not correspond to a known timestamp type format`, field);
}

/** Connect's inferTimestampType for schemaless values. */
function inferKind(value: unknown, field: string | undefined): TimestampKind {
  if (value instanceof Date) return 'Timestamp';
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value))) return 'unix';
  if (typeof value === 'string') return 'string';
  throw new DataError(
    `TimestampConverter does not support ${jsTypeOf(value)} objects as timestamps${forField(field)}`,
    field,
  );
}

function floorMod(a: bigint, b: bigint): bigint {
  const r = a % b;
  return r < 0n ? r + b : r;
}

/**
 * Connect's TimestampConverter. Every conversion goes through an exact epoch-nanosecond bigint (Connect
 * goes through java.util.Date), so micro/nanosecond unix values survive a unix→unix conversion and no
 * value passes through a float; Date, Time, Timestamp and string carry milliseconds, and going down to
 * them truncates toward zero as Java's TimeUnit does. All calendar arithmetic is in UTC.
 */
export class TimestampConverter implements Transformation {
  private field = '';
  private target: TimestampKind = 'Timestamp';
  private format: JavaDateFormat | null = null;
  private unit: bigint = PRECISIONS.milliseconds;
  private replaceNullWithDefault = true;
  private readonly schemas = new SchemaCache();

  constructor(private readonly side: Side) {}

  configure(props: RawConfig): void {
    const config = TIMESTAMP_CONVERTER_CONFIG.parse(props);
    this.field = config.string(FIELD);
    this.target = config.string(TARGET_TYPE) as TimestampKind;
    const pattern = config.string(FORMAT);
    if (this.target === 'string' && pattern.trim() === '') {
      throw new ConfigError(
        'TimestampConverter requires format option to be specified when using string timestamps',
        FORMAT,
      );
    }
    this.format = pattern.trim() === '' ? null : compileJavaDateFormat(pattern, FORMAT);
    this.unit = PRECISIONS[config.string(UNIX_PRECISION) as Precision];
    this.replaceNullWithDefault = config.bool(REPLACE_NULL_WITH_DEFAULT);
  }

  apply<R extends ConnectRecord>(record: R): R {
    const schema = operatingSchema(record, this.side);
    return schema === null ? this.applySchemaless(record) : this.applyWithSchema(record, schema);
  }

  close(): void {}

  private applyWithSchema<R extends ConnectRecord>(record: R, schema: Schema): R {
    const value = operatingValue(record, this.side);
    if (this.field === '') {
      const converted = this.convert(value, kindFromSchema(schema, undefined), undefined);
      return withOperating(record, this.side, typeSchema(this.target, schema.optional), converted);
    }
    const struct = requireStructOrNull(value, PURPOSE);
    const updated = this.schemas.getOrCompute(schema, (s) => this.updateSchema(s));
    return withOperating(record, this.side, updated, struct === null ? null : this.convertStruct(struct, updated));
  }

  private updateSchema(schema: Schema): Schema {
    if (schema.type !== 'struct') {
      throw new DataError(`Only Struct objects supported for [${PURPOSE}], found schema type: ${schema.type}`);
    }
    const builder = copySchemaBasics(schema, SchemaBuilder.struct());
    for (const f of schema.fields ?? []) {
      builder.field(f.name, f.name === this.field ? typeSchema(this.target, f.schema.optional) : f.schema);
    }
    if (schema.optional) builder.optional();
    const built = builder.build();
    if (!(schema.defaultValue instanceof Struct)) return built;
    return copyWithStructDefault(built, {}, (dflt, self) => this.convertStruct(dflt, self));
  }

  private convertStruct(value: Struct, updated: Schema): Struct {
    const out = new Struct(updated);
    for (const f of value.schema.fields ?? []) {
      const v = readField(value, f, this.replaceNullWithDefault);
      out.put(f.name, f.name === this.field ? this.convert(v, kindFromSchema(f.schema, f.name), f.name) : v);
    }
    return out;
  }

  private applySchemaless<R extends ConnectRecord>(record: R): R {
    const raw = operatingValue(record, this.side);
    if (raw === null || raw === undefined || this.field === '') {
      return withOperating(record, this.side, null, this.convert(raw, null, undefined));
    }
    const map = requireMap(raw, PURPOSE);
    const value = map[this.field] ?? null;
    return withOperating(record, this.side, null, { ...map, [this.field]: this.convert(value, null, this.field) });
  }

  /** Converts one timestamp; `from` null means "infer from the value" (schemaless). */
  private convert(value: unknown, from: TimestampKind | null, field: string | undefined): unknown {
    if (value === null || value === undefined) return null;
    const nanos = this.toNanos(value, from ?? inferKind(value, field), field);
    return this.fromNanos(nanos, field);
  }

  private toNanos(value: unknown, kind: TimestampKind, field: string | undefined): bigint {
    const found = (): string => `${jsTypeOf(value)} ${describeValue(value)}${forField(field)}`;
    switch (kind) {
      case 'string': {
        if (typeof value !== 'string')
          throw new DataError(`Expected string timestamp to be a String, but found ${found()}`, field);
        if (this.format === null) {
          throw new DataError(
            `Cannot parse the string timestamp ${describeValue(value)}${forField(field)}: set '${FORMAT}' to its SimpleDateFormat pattern`,
            field,
          );
        }
        const ms = this.format.parse(value);
        if (ms === null) {
          throw new DataError(
            `Could not parse timestamp: value (${boundedText(String(value), 200)}) does not match pattern (${this.format.pattern})${forField(field)}`,
            field,
          );
        }
        return BigInt(ms) * NANOS_PER_MS;
      }
      case 'unix':
        if (typeof value === 'bigint') return value * this.unit;
        if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value) * this.unit;
        throw new DataError(`Expected Unix timestamp to be a Long, but found ${found()}`, field);
      default:
        if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
          throw new DataError(`Expected ${kind} to be a java.util.Date, but found ${found()}`, field);
        }
        return BigInt(value.getTime()) * NANOS_PER_MS;
    }
  }

  private fromNanos(nanos: bigint, field: string | undefined): unknown {
    if (this.target === 'unix') return nanos / this.unit;
    // BigInt division truncates toward zero, as TimeUnit.toMillis does.
    const ms = nanos / NANOS_PER_MS;
    if (ms > MAX_MS || ms < -MAX_MS) {
      throw new DataError(
        `Timestamp ${ms} ms${forField(field)} is outside the range of dates that can be represented`,
        field,
      );
    }
    switch (this.target) {
      case 'string':
        return this.format!.format(Number(ms));
      case 'Timestamp':
        return new Date(Number(ms));
      case 'Date':
        return new Date(Number(ms - floorMod(ms, MS_PER_DAY)));
      default:
        return new Date(Number(floorMod(ms, MS_PER_DAY)));
    }
  }
}

export const timestampConverterPlugins = keyValueVariants({
  className: 'org.apache.kafka.connect.transforms.TimestampConverter',
  summary: 'Converts a timestamp between string, unix epoch, Date, Time and Timestamp (UTC)',
  config: TIMESTAMP_CONVERTER_CONFIG,
  example: {
    transforms: 'shippedAt',
    'transforms.shippedAt.type': 'org.apache.kafka.connect.transforms.TimestampConverter$Value',
    'transforms.shippedAt.field': 'shipped_at',
    'transforms.shippedAt.target.type': 'string',
    'transforms.shippedAt.format': "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'",
  },
  create: (side) => new TimestampConverter(side),
});

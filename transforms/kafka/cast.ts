import {
  boundedText,
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  DATE_NAME,
  DECIMAL_NAME,
  DataError,
  DateType,
  Decimal,
  type Field,
  type Schema,
  SchemaBuilder,
  type SchemaType,
  Struct,
  StructCopyPlan,
  TIMESTAMP_NAME,
  TIME_NAME,
  TimeType,
  TimestampType,
  type TransformationPlugin,
  Validators,
  jsTypeOf,
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
  forField,
  javaSplit,
  ownValue,
  readField,
  schemalessType,
} from './field-common.js';
import {
  type IntWidth,
  connectDateToString,
  javaBigDecimalToString,
  javaDoubleToString,
  javaFloatToString,
  narrowToInt,
  parseJavaBoolean,
  parseJavaFloat,
  parseJavaInt,
  toFloat,
} from './java-values.js';

/**
 * Cast: casts top-level fields, or the whole key/value, to a primitive type with Java's semantics.
 *
 * Number → number narrowing wraps (integers) or saturates (floating point) silently, exactly as Connect
 * does (`Number.byteValue()` …): Connect raises its "out of range" DataException only when a *string*
 * does not parse into the target type, and so do we. Decimal values never pass through a float except
 * when the target is float32/float64; Decimal → string is exact (BigDecimal.toString).
 */

const SPEC = 'spec';
const PURPOSE = 'cast types';

type CastTarget = 'int8' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'boolean' | 'string';
const OUTPUT_TYPES: readonly CastTarget[] = [
  'int8',
  'int16',
  'int32',
  'int64',
  'float32',
  'float64',
  'boolean',
  'string',
];
const INPUT_TYPES: readonly SchemaType[] = [...OUTPUT_TYPES, 'bytes'];
const ALL_TYPES: readonly SchemaType[] = [...INPUT_TYPES, 'array', 'map', 'struct'];
const CONNECT_LOGICAL = new Set([DECIMAL_NAME, DATE_NAME, TIME_NAME, TIMESTAMP_NAME]);

const upper = (types: readonly string[]): string => `[${types.map((t) => t.toUpperCase()).join(', ')}]`;

interface CastSpec {
  /** Set when the spec is a single type: the whole key/value is cast. */
  readonly whole: CastTarget | undefined;
  readonly fields: ReadonlyMap<string, CastTarget>;
}

function parseTarget(text: string, mappings: readonly string[]): CastTarget {
  const type = text.trim().toLowerCase() as SchemaType;
  if (!ALL_TYPES.includes(type)) {
    throw ConfigError.invalid(SPEC, mappings.join(','), `Invalid type found in casting spec: ${text.trim()}`);
  }
  if (!(OUTPUT_TYPES as readonly string[]).includes(type)) {
    throw ConfigError.invalid(
      SPEC,
      mappings.join(','),
      `Cast transformation does not support casting to ${type.toUpperCase()}; supported types are ${upper(OUTPUT_TYPES)}`,
    );
  }
  return type as CastTarget;
}

function parseSpec(mappings: readonly string[]): CastSpec {
  if (mappings.length === 0) throw ConfigError.invalid(SPEC, '', 'Must specify at least one field to cast.');
  const fields = new Map<string, CastTarget>();
  let whole: CastTarget | undefined;
  for (const mapping of mappings) {
    const parts = javaSplit(mapping, ':');
    if (parts.length === 1) whole = parseTarget(parts[0]!, mappings);
    else if (parts.length === 2) fields.set(parts[0]!.trim(), parseTarget(parts[1]!, mappings));
    else throw ConfigError.invalid(SPEC, mappings.join(','), `Invalid cast mapping: ${mapping}`);
  }
  if (whole !== undefined && mappings.length > 1) {
    throw ConfigError.invalid(
      SPEC,
      mappings.join(','),
      'Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec',
    );
  }
  return { whole, fields };
}

export const castConfig = defineReplaceNullWithDefault(
  new ConfigDef().define({
    name: SPEC,
    type: 'LIST',
    importance: 'HIGH',
    documentation:
      'List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of ' +
      'Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, ' +
      'int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string.',
    validator: Validators.custom('list of colon-delimited pairs, e.g. foo:bar,abc:xyz', (_name, value) => {
      parseSpec((value as string[] | null) ?? []);
    }),
    example: 'qty:int32,price:string',
  }),
);

/** Logical Date/Time/Timestamp become their numeric encoding before a numeric or boolean cast. */
function encodeLogical(schema: Schema, value: unknown): unknown {
  if (!(value instanceof Date)) return value;
  switch (schema.name) {
    case DATE_NAME:
      return DateType.fromLogical(value);
    case TIME_NAME:
      return TimeType.fromLogical(value);
    case TIMESTAMP_NAME:
      return TimestampType.fromLogical(value);
    default:
      // A Date under any other schema name is not a logical value: cast as it is.
      return value;
  }
}

const WIDTH: Partial<Record<CastTarget, IntWidth>> = { int8: 8, int16: 16, int32: 32, int64: 64 };

/** Casts one value; `schema` is null when schemaless. `field` only names the field in errors. */
export function castValue(schema: Schema | null, input: unknown, target: CastTarget, field?: string): unknown {
  if (input === null || input === undefined) return null;
  const inferred = schema === null ? schemalessType(input) : schema.type;
  if (inferred === undefined) {
    throw new DataError(
      `Cast transformation was passed a value of type ${jsTypeOf(input)} which is not supported by Connect's data API${forField(field)}`,
      field,
    );
  }
  if (inferred !== 'decimal' && !INPUT_TYPES.includes(inferred)) {
    throw new DataError(
      `Cast transformation does not support casting from ${inferred.toUpperCase()}; supported types are ${upper(INPUT_TYPES)}${forField(field)}`,
      field,
    );
  }
  const value =
    schema !== null && schema.name !== undefined && target !== 'string' ? encodeLogical(schema, input) : input;
  // With a schema a JS number is a float only if the schema says so; schemaless it is a Double.
  const isFloat =
    typeof value === 'number' && (schema === null || schema.type === 'float32' || schema.type === 'float64');
  const isNumber = typeof value === 'number' || typeof value === 'bigint' || value instanceof Decimal;

  switch (target) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64': {
      const width = WIDTH[target]!;
      if (isNumber) return narrowToInt(value as number | bigint | Decimal, width, isFloat);
      if (typeof value === 'boolean') return width === 64 ? (value ? 1n : 0n) : value ? 1 : 0;
      if (typeof value === 'string')
        return parseJavaInt(value, width) ?? throwError(outOfRangeError(value, target, field));
      throw unexpectedType(value, field);
    }
    case 'float32':
    case 'float64': {
      const width = target === 'float32' ? 32 : 64;
      if (isNumber) return toFloat(value as number | bigint | Decimal, width);
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (typeof value === 'string')
        return parseJavaFloat(value, width) ?? throwError(outOfRangeError(value, target, field));
      throw unexpectedType(value, field);
    }
    case 'boolean':
      // Java: Number.longValue() != 0, so 0.5 is false.
      if (isNumber) return narrowToInt(value as number | bigint | Decimal, 64, isFloat) !== 0n;
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string') return parseJavaBoolean(value);
      throw unexpectedType(value, field);
    case 'string':
      return castToString(schema, value, isFloat);
  }
}

function unexpectedType(value: unknown, field: string | undefined): DataError {
  return new DataError(`Unexpected type in Cast transformation: ${jsTypeOf(value)}${forField(field)}`, field);
}

function outOfRangeError(value: unknown, target: CastTarget, field: string | undefined): DataError {
  return new DataError(
    `Value (${boundedText(String(value), 200)}) was out of range for requested data type ${target.toUpperCase()} (input type ${jsTypeOf(value)})${forField(field)}`,
    field,
  );
}

function throwError(error: Error): never {
  throw error;
}

function castToString(schema: Schema | null, value: unknown, isFloat: boolean): string {
  if (value instanceof Date) return connectDateToString(value);
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof Decimal) return javaBigDecimalToString(value);
  if (typeof value === 'number' && isFloat) {
    return schema?.type === 'float32' ? javaFloatToString(value) : javaDoubleToString(value);
  }
  return String(value);
}

interface FieldCast {
  readonly from: Field;
  readonly to: Field;
  readonly cast: (value: unknown) => unknown;
}

interface StructCastPlan {
  readonly copy: StructCopyPlan;
  readonly casts: readonly FieldCast[];
}

/**
 * `castValue` specialised for one field's schema and target, compiled once per schema. A plain int8/16/32
 * field holds a JS integer within its range (its struct checked it), so the common integer casts need no
 * BigInt round trip; they give what `castValue` gives, which handles everything else.
 */
function compileCast(schema: Schema, target: CastTarget, field: string): (value: unknown) => unknown {
  const generic = (v: unknown): unknown => castValue(schema, v, target, field);
  if (schema.name !== undefined || !(schema.type === 'int8' || schema.type === 'int16' || schema.type === 'int32')) {
    return generic;
  }
  switch (target) {
    case 'int8':
    case 'int16': {
      // Java's (byte)/(short) of an int: keep the low bits, sign-extended.
      const shift = 32 - WIDTH[target]!;
      return (v) => (typeof v === 'number' ? (v << shift) >> shift : generic(v));
    }
    case 'int32':
      return (v) => (typeof v === 'number' ? v | 0 : generic(v));
    case 'int64':
      return (v) => (typeof v === 'number' ? BigInt(v) : generic(v));
    case 'string':
      return (v) => (typeof v === 'number' ? String(v) : generic(v));
    default:
      return generic;
  }
}

export const castPlugins: TransformationPlugin[] = keyValueVariants({
  className: 'org.apache.kafka.connect.transforms.Cast',
  summary: 'Cast fields or the entire key or value to a specific type',
  config: castConfig,
  example: {
    'transforms.cast.type': 'org.apache.kafka.connect.transforms.Cast$Value',
    'transforms.cast.spec': 'QTY:int32,PRICE:string,ACTIVE:boolean',
  },
  create: (side) =>
    configuredTransform(castConfig, side, (cfg) => {
      const spec = parseSpec(cfg.list(SPEC));
      const replaceNull = cfg.bool(REPLACE_NULL_WITH_DEFAULT);
      const cache = new SchemaCache();

      // Per input schema: the fields copied as they are, and the fields cast with their compiled caster.
      const structPlans = new SchemaCache<StructCastPlan>();
      const structPlan = (schema: Schema, target: Schema): StructCastPlan =>
        structPlans.getOrCompute(schema, () => {
          const copies: Array<readonly [Field, Field]> = [];
          const casts: FieldCast[] = [];
          for (const f of schema.fields ?? []) {
            const to = target.fields![f.index]!;
            const type = spec.fields.get(f.name);
            if (type === undefined) copies.push([f, to]);
            else casts.push({ from: f, to, cast: compileCast(f.schema, type, f.name) });
          }
          return { copy: new StructCopyPlan(schema, target, copies), casts };
        });
      const castStruct = (struct: Struct, target: Schema): Struct => {
        const plan = structPlan(struct.schema, target);
        const out = new Struct(target).copyFields(struct, plan.copy, replaceNull);
        const casts = plan.casts;
        for (let i = 0; i < casts.length; i++) {
          const c = casts[i]!;
          out.putAt(c.to, c.cast(readField(struct, c.from, replaceNull)));
        }
        return out;
      };

      const castFieldSchema = (f: { name: string; schema: Schema }, type: CastTarget): Schema => {
        const b = SchemaBuilder.type(type);
        if (f.schema.optional) b.optional();
        if (f.schema.defaultValue !== undefined && f.schema.defaultValue !== null) {
          b.defaultValue(castValue(f.schema, f.schema.defaultValue, type, f.name));
        }
        return b.build();
      };

      const updatedSchema = (schema: Schema): Schema =>
        cache.getOrCompute(schema, () => {
          let builder: SchemaBuilder;
          if (spec.whole !== undefined) {
            // Connect copies the name too, but a Decimal/Date/… name on an int or string schema would make
            // the cast value invalid for its own schema, so a Connect logical name is dropped.
            builder = CONNECT_LOGICAL.has(schema.name ?? '')
              ? SchemaBuilder.type(spec.whole).doc(schema.doc)
              : copySchemaBasics(schema, SchemaBuilder.type(spec.whole));
          } else {
            if (schema.type !== 'struct') {
              throw new DataError(`Only Struct objects supported for [${PURPOSE}], found schema type: ${schema.type}`);
            }
            builder = copySchemaBasics(schema, SchemaBuilder.struct());
            for (const f of schema.fields ?? []) {
              const type = spec.fields.get(f.name);
              builder.field(f.name, type === undefined ? f.schema : castFieldSchema(f, type));
            }
          }
          if (schema.optional) builder.optional();
          // A struct's own default is not carried over: Connect tries to cast it as a whole value and fails.
          if (spec.whole !== undefined && schema.defaultValue !== undefined && schema.defaultValue !== null) {
            builder.defaultValue(castValue(schema, schema.defaultValue, spec.whole));
          }
          return builder.build();
        });

      return (record: ConnectRecord) => {
        const value = operatingValue(record, side);
        if (value === null || value === undefined) return record;
        const schema = operatingSchema(record, side);
        if (schema === null) {
          if (spec.whole !== undefined) return withOperating(record, side, null, castValue(null, value, spec.whole));
          const map = requireMap(value, PURPOSE);
          // Like Connect, a field named in the spec but absent from the map is added as null.
          const out: PlainObject = { ...map };
          for (const [name, type] of spec.fields) out[name] = castValue(null, ownValue(map, name), type, name);
          return withOperating(record, side, null, out);
        }
        const newSchema = updatedSchema(schema);
        if (spec.whole !== undefined)
          return withOperating(record, side, newSchema, castValue(schema, value, spec.whole));
        return withOperating(record, side, newSchema, castStruct(requireStruct(value, PURPOSE), newSchema));
      };
    }),
});

import {
  ConfigDef,
  type ConnectRecord,
  DataError,
  DECIMAL_NAME,
  Decimal,
  DecimalType,
  type Schema,
  Struct,
  type TransformationPlugin,
  Validators,
  jsTypeOf,
} from '../../runtime/api/index.js';
import {
  type PlainObject,
  isPlainObject,
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
  defineReplaceNullWithDefault,
  forField,
  ownValue,
  readField,
} from './field-common.js';
import { type IntWidth, narrowToInt, toFloat } from './java-values.js';

/**
 * MaskField: replaces top-level fields with the "empty" value of their type, or with `replacement`
 * converted to the field's numeric or string type. Null fields stay null. A tombstone fails, as in
 * Connect: guard with the RecordIsTombstone predicate (negate=true) when deletes flow through.
 */

const PURPOSE = 'mask fields';
const FIELDS = 'fields';
const REPLACEMENT = 'replacement';

export const maskFieldConfig = defineReplaceNullWithDefault(
  new ConfigDef()
    .define({
      name: FIELDS,
      type: 'LIST',
      importance: 'HIGH',
      documentation: 'Names of fields to mask.',
      validator: Validators.nonEmptyList(),
      example: 'TAX_ID,IBAN',
    })
    .define({
      name: REPLACEMENT,
      type: 'STRING',
      defaultValue: null,
      importance: 'LOW',
      documentation:
        "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only).",
      validator: Validators.nonEmptyString(),
    }),
);

const INT_WIDTHS: Partial<Record<string, IntWidth>> = { int8: 8, int16: 16, int32: 32, int64: 64 };

/** The scale a masked Decimal must have to stay valid for its schema (Connect uses BigDecimal.ZERO). */
function decimalScale(schema: Schema | null): number {
  return schema?.name === DECIMAL_NAME ? DecimalType.scaleOf(schema) : 0;
}

/** Connect's PRIMITIVE_VALUE_MAPPING plus empty list/map, keyed by the value's runtime type. */
function emptyValueOf(value: unknown, schema: Schema | null, field: string): unknown {
  switch (typeof value) {
    case 'boolean':
      return false;
    case 'number':
      return 0;
    case 'bigint':
      return 0n;
    case 'string':
      return '';
    default:
      // Objects are told apart by their class below; anything else cannot be masked.
      break;
  }
  if (value instanceof Decimal) return new Decimal(0n, decimalScale(schema));
  if (value instanceof Date) return new Date(0);
  if (Array.isArray(value)) return [];
  if (value instanceof Map) return new Map();
  if (isPlainObject(value)) return {};
  throw new DataError(`Cannot mask value of type: ${jsTypeOf(value)}${forField(field)}`, field);
}

/**
 * Connect's REPLACEMENT_MAPPING_FUNC (3.9): a string field takes the replacement as is; a numeric field
 * takes it parsed as a number (`Values.convertToX`) and narrowed the Java way, so "300" masks an int8 as
 * 44 and "1.5" an int64 as 1, as in Connect. A Decimal takes it exactly, at the schema's scale (Connect
 * keeps the literal's scale, which its converter then rejects).
 */
function replacementFor(value: unknown, schema: Schema | null, replacement: string, field: string): unknown {
  if (typeof value === 'string') return replacement;
  if (typeof value !== 'number' && typeof value !== 'bigint' && !(value instanceof Decimal)) {
    throw new DataError(
      `Cannot mask value of type ${jsTypeOf(value)} with custom replacement${forField(field)}`,
      field,
    );
  }
  let parsed: Decimal;
  try {
    parsed = Decimal.parse(replacement);
  } catch {
    throw new DataError(`Unable to convert ${replacement} (string) to a number${forField(field)}`, field);
  }
  if (value instanceof Decimal) {
    if (schema?.name !== DECIMAL_NAME) return parsed;
    const scale = decimalScale(schema);
    try {
      return parsed.setScale(scale);
    } catch {
      throw new DataError(
        `Replacement ${replacement} does not fit the Decimal scale ${scale}${forField(field)}`,
        field,
      );
    }
  }
  if (typeof value === 'bigint') return narrowToInt(parsed, 64, false);
  // A JS number is an intN or a float by its schema; schemaless it is a Double (a Long is a bigint).
  const type = schema?.type ?? 'float64';
  const width = INT_WIDTHS[type];
  return width === undefined ? toFloat(parsed, type === 'float32' ? 32 : 64) : narrowToInt(parsed, width, false);
}

export const maskFieldPlugins: TransformationPlugin[] = keyValueVariants({
  className: 'org.apache.kafka.connect.transforms.MaskField',
  summary: 'Mask fields with the empty value of their type or a replacement',
  config: maskFieldConfig,
  example: {
    'transforms.mask.type': 'org.apache.kafka.connect.transforms.MaskField$Value',
    'transforms.mask.fields': 'TAX_ID,IBAN',
    'transforms.mask.replacement': '****',
  },
  create: (side) =>
    configuredTransform(maskFieldConfig, side, (cfg) => {
      const masked = new Set(cfg.list(FIELDS));
      const replacement = cfg.stringOrNull(REPLACEMENT);
      const replaceNull = cfg.bool(REPLACE_NULL_WITH_DEFAULT);
      const mask = (value: unknown, schema: Schema | null, field: string): unknown => {
        if (value === null || value === undefined) return null;
        return replacement === null
          ? emptyValueOf(value, schema, field)
          : replacementFor(value, schema, replacement, field);
      };

      return (record: ConnectRecord) => {
        const schema = operatingSchema(record, side);
        const value = operatingValue(record, side);
        if (schema === null) {
          const map = requireMap(value, PURPOSE);
          // Like Connect, a listed field absent from the map is added as null.
          const out: PlainObject = { ...map };
          for (const name of masked) out[name] = mask(ownValue(map, name), null, name);
          return withOperating(record, side, null, out);
        }
        const struct = requireStruct(value, PURPOSE);
        const out = new Struct(struct.schema);
        for (const f of struct.schema.fields ?? []) {
          const v = readField(struct, f, replaceNull);
          out.put(f.name, masked.has(f.name) ? mask(v, f.schema, f.name) : v);
        }
        return withOperating(record, side, struct.schema, out);
      };
    }),
});

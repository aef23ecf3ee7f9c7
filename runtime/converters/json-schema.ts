import { DataError, type Schema, SchemaBuilder, describeValue } from '../api/index.js';
import {
  DEFAULTS,
  type JsonDataOptions,
  type JsonObject,
  connectToJson,
  isPlainObject,
  jsonToConnect,
} from './json-values.js';

/**
 * Connect schemas ↔ the schema part of JsonConverter's envelope: `type` names (int8…, "float",
 * "double", "bytes", "struct" with `fields` each carrying `field`), `optional`, `name`, `version`,
 * `doc`, `parameters`, `default`, members in the order Java writes them.
 */

const TYPE_NAMES: Partial<Record<Schema['type'], string>> = {
  int8: 'int8',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  float32: 'float',
  float64: 'double',
  boolean: 'boolean',
  string: 'string',
  bytes: 'bytes',
  array: 'array',
  map: 'map',
  struct: 'struct',
};

/** The schema part of Connect's JSON envelope, members in the order Java writes them. */
export function connectSchemaToJson(schema: Schema | null, options: JsonDataOptions = DEFAULTS): JsonObject | null {
  if (schema === null) return null;
  const out: JsonObject = { type: TYPE_NAMES[schema.type] };
  switch (schema.type) {
    case 'array':
      out.items = connectSchemaToJson(schema.valueSchema!, options);
      break;
    case 'map':
      out.keys = connectSchemaToJson(schema.keySchema!, options);
      out.values = connectSchemaToJson(schema.valueSchema!, options);
      break;
    case 'struct':
      out.fields = (schema.fields ?? []).map((f) => ({ ...connectSchemaToJson(f.schema, options), field: f.name }));
      break;
    default:
      break;
  }
  out.optional = schema.optional;
  if (schema.name !== undefined) out.name = schema.name;
  if (schema.version !== undefined) out.version = schema.version;
  if (schema.doc !== undefined) out.doc = schema.doc;
  if (schema.parameters !== undefined) out.parameters = { ...schema.parameters };
  if (schema.defaultValue !== undefined && schema.defaultValue !== null) {
    out.default = connectToJson(schema, schema.defaultValue, options);
  }
  return out;
}

const FROM_TYPE_NAME: Record<string, Schema['type']> = {
  boolean: 'boolean',
  int8: 'int8',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  float: 'float32',
  double: 'float64',
  bytes: 'bytes',
  string: 'string',
  array: 'array',
  map: 'map',
  struct: 'struct',
};

/** Parses the schema part of an envelope (Java's asConnectSchema), with the same error messages. */
export function jsonSchemaToConnect(json: unknown, options: JsonDataOptions = DEFAULTS): Schema | null {
  if (json === null || json === undefined) return null;
  if (!isPlainObject(json)) throw new DataError(`Schema must be a JSON object, got ${describeValue(json)}`);
  const typeName = json.type;
  if (typeof typeName !== 'string') throw new DataError("Schema must contain 'type' field");
  const type = FROM_TYPE_NAME[typeName];
  if (type === undefined) throw new DataError(`Unknown schema type: ${typeName}`);
  let b: SchemaBuilder;
  switch (type) {
    case 'array': {
      const items = json.items;
      if (items === null || items === undefined) throw new DataError('Array schema did not specify the element type');
      b = SchemaBuilder.array(jsonSchemaToConnect(items, options)!);
      break;
    }
    case 'map': {
      if (json.keys === undefined) throw new DataError('Map schema did not specify the key type');
      if (json.values === undefined) throw new DataError('Map schema did not specify the value type');
      b = SchemaBuilder.map(jsonSchemaToConnect(json.keys, options)!, jsonSchemaToConnect(json.values, options)!);
      break;
    }
    case 'struct': {
      const fields = json.fields;
      if (!Array.isArray(fields)) throw new DataError('Struct schema\'s "fields" argument is not an array.');
      b = SchemaBuilder.struct();
      for (const f of fields) {
        if (!isPlainObject(f) || typeof f.field !== 'string') {
          throw new DataError("Struct schema's field name not specified properly");
        }
        b.field(f.field, jsonSchemaToConnect(f, options)!);
      }
      break;
    }
    default:
      b = SchemaBuilder.type(type);
  }
  b.optional(json.optional === true);
  if (typeof json.name === 'string') b.name(json.name);
  if (typeof json.version === 'number' && Number.isInteger(json.version)) b.version(json.version);
  if (typeof json.doc === 'string') b.doc(json.doc);
  if (isPlainObject(json.parameters)) {
    for (const [k, v] of Object.entries(json.parameters)) {
      if (typeof v !== 'string') throw new DataError('Schema parameters must have string values.');
      b.parameter(k, v);
    }
  }
  const schema = b.build();
  if (json.default === undefined || json.default === null) return schema;
  const defaultValue = jsonToConnect(schema, json.default, options, '<default>');
  try {
    return SchemaBuilder.from(schema).defaultValue(defaultValue).build();
  } catch (e) {
    throw new DataError(
      `Invalid default value ${describeValue(json.default)} for schema of type ${typeName}`,
      undefined,
      {
        cause: e,
      },
    );
  }
}

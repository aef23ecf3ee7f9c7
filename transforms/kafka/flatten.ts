import {
  ConfigDef,
  type ConnectRecord,
  DataError,
  type Schema,
  SchemaBuilder,
  Struct,
  type TransformationPlugin,
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
  configuredTransform,
  copySchemaBasics,
  copySchemaBasicsOf,
  readField,
  schemalessType,
} from './field-common.js';

/**
 * Flatten: nested structs (or maps) become top-level fields named `parent<delimiter>child`. Arrays and
 * primitives are copied as they are. A nested field is optional if any ancestor is, and inherits a
 * default from an ancestor's default struct. With schema, a map field fails. A tombstone passes through.
 */

const PURPOSE = 'flattening';
const DELIMITER = 'delimiter';

export const flattenConfig = new ConfigDef().define({
  name: DELIMITER,
  type: 'STRING',
  defaultValue: '.',
  importance: 'MEDIUM',
  documentation:
    'Delimiter to insert between field names from the input record when generating field names for the output record',
  example: '_',
});

const COPIED_AS_IS = new Set([
  'int8',
  'int16',
  'int32',
  'int64',
  'float32',
  'float64',
  'boolean',
  'string',
  'bytes',
  'array',
]);

export const flattenPlugins: TransformationPlugin[] = keyValueVariants({
  className: 'org.apache.kafka.connect.transforms.Flatten',
  summary: 'Flatten nested structs or maps into top-level fields joined by a delimiter',
  config: flattenConfig,
  example: {
    'transforms.flat.type': 'org.apache.kafka.connect.transforms.Flatten$Value',
    'transforms.flat.delimiter': '_',
  },
  create: (side) =>
    configuredTransform(flattenConfig, side, (cfg) => {
      const delimiter = cfg.string(DELIMITER);
      const nameOf = (prefix: string, name: string): string => (prefix === '' ? name : `${prefix}${delimiter}${name}`);
      const unsupported = (type: string, name: string, withSchemas: boolean): DataError =>
        new DataError(
          `Flatten transformation does not support ${type.toUpperCase()} for record ${withSchemas ? 'with' : 'without'} schemas (for field ${name}).`,
          name,
        );

      const flattenMap = (map: PlainObject, prefix: string, out: PlainObject): void => {
        for (const [key, value] of Object.entries(map)) {
          const name = nameOf(prefix, key);
          if (value === null || value === undefined) {
            out[name] = null;
            continue;
          }
          const type = schemalessType(value);
          if (type === undefined) {
            throw new DataError(
              `Flatten transformation was passed a value of type ${jsTypeOf(value)} which is not supported by Connect's data API (for field ${name}).`,
              name,
            );
          }
          if (type === 'map')
            flattenMap(value instanceof Map ? Object.fromEntries(value) : requireMap(value, PURPOSE), name, out);
          else if (type === 'struct') throw unsupported(type, name, false);
          else out[name] = value;
        }
      };

      const buildSchema = (
        schema: Schema,
        prefix: string,
        builder: SchemaBuilder,
        optional: boolean,
        parentDefault: Struct | null,
      ): void => {
        for (const f of schema.fields ?? []) {
          const name = nameOf(prefix, f.name);
          const fieldOptional = optional || f.schema.optional;
          const fieldDefault =
            f.schema.defaultValue ?? (parentDefault === null ? null : readField(parentDefault, f, true));
          if (COPIED_AS_IS.has(f.schema.type)) {
            const b = copySchemaBasicsOf(f.schema);
            if (fieldOptional) b.optional();
            if (fieldDefault !== null) b.defaultValue(fieldDefault);
            builder.field(name, b.build());
          } else if (f.schema.type === 'struct') {
            buildSchema(f.schema, name, builder, fieldOptional, fieldDefault as Struct | null);
          } else {
            throw unsupported(f.schema.type, name, true);
          }
        }
      };

      const cache = new SchemaCache();
      const flatSchema = (schema: Schema): Schema =>
        cache.getOrCompute(schema, () => {
          const builder = copySchemaBasics(schema, SchemaBuilder.struct());
          buildSchema(schema, '', builder, schema.optional, (schema.defaultValue as Struct | undefined) ?? null);
          return builder.build();
        });

      // Like Connect (Struct.get), a null field reads as its default; Flatten has no replace.null.with.default.
      const flattenStruct = (struct: Struct | null, prefix: string, out: Struct): void => {
        if (struct === null) return;
        for (const f of struct.schema.fields ?? []) {
          const name = nameOf(prefix, f.name);
          const v = readField(struct, f, true);
          if (f.schema.type === 'struct') flattenStruct(v as Struct | null, name, out);
          else out.put(name, v);
        }
      };

      return (record: ConnectRecord) => {
        const value = operatingValue(record, side);
        if (value === null || value === undefined) return record;
        const schema = operatingSchema(record, side);
        if (schema === null) {
          const out: PlainObject = {};
          flattenMap(requireMap(value, PURPOSE), '', out);
          return withOperating(record, side, null, out);
        }
        const struct = requireStruct(value, PURPOSE);
        const newSchema = flatSchema(struct.schema);
        const out = new Struct(newSchema);
        flattenStruct(struct, '', out);
        return withOperating(record, side, newSchema, out);
      };
    }),
});

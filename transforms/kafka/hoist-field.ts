import {
  ConfigDef,
  type ConnectRecord,
  type Schema,
  SchemaBuilder,
  Struct,
  type TransformationPlugin,
} from '../../runtime/api/index.js';
import { SchemaCache, keyValueVariants, operatingSchema, operatingValue, withOperating } from '../support.js';
import { configuredTransform } from './field-common.js';

/**
 * HoistField: wraps the key/value in a struct (or map) with one field. A null is wrapped too; with a
 * schema that only works when the original schema is optional (as in Connect, Struct.put rejects it).
 */

const FIELD = 'field';

export const hoistFieldConfig = new ConfigDef().define({
  name: FIELD,
  type: 'STRING',
  importance: 'MEDIUM',
  documentation: 'Field name for the single field that will be created in the resulting Struct or Map.',
  example: 'line',
});

export const hoistFieldPlugins: TransformationPlugin[] = keyValueVariants({
  className: 'org.apache.kafka.connect.transforms.HoistField',
  summary: 'Wrap the key or value in a Struct (with schema) or Map (schemaless) with a single field',
  config: hoistFieldConfig,
  example: {
    'transforms.wrap.type': 'org.apache.kafka.connect.transforms.HoistField$Key',
    'transforms.wrap.field': 'id',
  },
  create: (side) =>
    configuredTransform(hoistFieldConfig, side, (cfg) => {
      const name = cfg.string(FIELD);
      const cache = new SchemaCache();
      const wrapped = (schema: Schema): Schema =>
        cache.getOrCompute(schema, () => SchemaBuilder.struct().field(name, schema).build());
      return (record: ConnectRecord) => {
        const schema = operatingSchema(record, side);
        const value = operatingValue(record, side) ?? null;
        if (schema === null) return withOperating(record, side, null, { [name]: value });
        const newSchema = wrapped(schema);
        return withOperating(record, side, newSchema, new Struct(newSchema).put(name, value));
      };
    }),
});

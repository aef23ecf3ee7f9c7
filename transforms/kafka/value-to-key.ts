import {
  ConfigDef,
  type ConnectRecord,
  DataError,
  type Field,
  type Schema,
  SchemaBuilder,
  Struct,
  type TransformationPlugin,
  Validators,
  newRecord,
} from '../../runtime/api/index.js';
import { type PlainObject, PLUGIN_VERSION, SchemaCache, requireMap, requireStruct } from '../support.js';
import {
  REPLACE_NULL_WITH_DEFAULT,
  configuredTransform,
  defineReplaceNullWithDefault,
  ownValue,
  readField,
} from './field-common.js';

/**
 * ValueToKey: the new key is a struct (or map) of the listed value fields. Typical use: key a Phone by
 * its Person id so both land on the same partition. A tombstone fails, as in Connect; guard the
 * transform with the RecordIsTombstone predicate (negate=true) when deletes flow through.
 */

const PURPOSE = 'copying fields from value to key';
const FIELDS = 'fields';

export const valueToKeyConfig = defineReplaceNullWithDefault(
  new ConfigDef().define({
    name: FIELDS,
    type: 'LIST',
    importance: 'HIGH',
    documentation: 'Field names on the record value to extract as the record key.',
    validator: Validators.nonEmptyList(),
    example: 'PERSON_ID',
  }),
);

export const valueToKeyPlugin: TransformationPlugin = {
  type: 'transformation',
  className: 'org.apache.kafka.connect.transforms.ValueToKey',
  aliases: ['ValueToKey'],
  version: PLUGIN_VERSION,
  config: valueToKeyConfig,
  summary: 'Replace the record key with a new key formed from a subset of fields in the record value',
  example: {
    'transforms.key.type': 'org.apache.kafka.connect.transforms.ValueToKey',
    'transforms.key.fields': 'PERSON_ID',
  },
  create: () =>
    configuredTransform(valueToKeyConfig, 'value', (cfg) => {
      const fields = cfg.list(FIELDS);
      const replaceNull = cfg.bool(REPLACE_NULL_WITH_DEFAULT);
      // Per value schema: the key schema and the value fields it copies, in order.
      const cache = new SchemaCache<{ schema: Schema; sources: Field[] }>();
      const plan = (valueSchema: Schema) =>
        cache.getOrCompute(valueSchema, () => {
          const builder = SchemaBuilder.struct();
          const sources = fields.map((name) => {
            const f = valueSchema.fields?.find((x) => x.name === name);
            if (f === undefined) throw new DataError(`Field does not exist: ${name}`, name);
            builder.field(name, f.schema);
            return f;
          });
          return { schema: builder.build(), sources };
        });

      return (record: ConnectRecord) => {
        if (record.valueSchema === null) {
          const value = requireMap(record.value, PURPOSE);
          const key: PlainObject = {};
          for (const name of fields) key[name] = ownValue(value, name);
          return newRecord(record, { keySchema: null, key });
        }
        const value = requireStruct(record.value, PURPOSE);
        const { schema, sources } = plan(value.schema);
        const key = new Struct(schema);
        for (const f of sources) key.put(f.name, readField(value, f, replaceNull));
        return newRecord(record, { keySchema: schema, key });
      };
    }),
};

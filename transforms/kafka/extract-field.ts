import { ConfigDef, type ConnectRecord, DataError, type TransformationPlugin } from '../../runtime/api/index.js';
import {
  keyValueVariants,
  operatingSchema,
  operatingValue,
  requireMapOrNull,
  requireStructOrNull,
  withOperating,
} from '../support.js';
import { REPLACE_NULL_WITH_DEFAULT, configuredTransform, defineReplaceNullWithDefault } from './field-common.js';
import { FIELD_SYNTAX_VERSION, SingleFieldPath, defineFieldSyntaxVersion, parseSyntaxVersion } from './field-path.js';

/**
 * ExtractField: replaces the key/value with one of its fields. With `field.syntax.version=V2` the field
 * may be a dotted path into nested structs/maps (KIP-821). A null key/value stays null; with a schema
 * the new schema is the field's schema even then.
 */

const PURPOSE = 'field extraction';
const FIELD = 'field';

export const extractFieldConfig = defineReplaceNullWithDefault(
  defineFieldSyntaxVersion(
    new ConfigDef().define({
      name: FIELD,
      type: 'STRING',
      importance: 'MEDIUM',
      documentation: 'Field name to extract.',
      example: 'after.id',
    }),
  ),
);

export const extractFieldPlugins: TransformationPlugin[] = keyValueVariants({
  className: 'org.apache.kafka.connect.transforms.ExtractField',
  summary: 'Replace the key or value with one of its fields',
  config: extractFieldConfig,
  example: {
    'transforms.id.type': 'org.apache.kafka.connect.transforms.ExtractField$Key',
    'transforms.id.field': 'ID',
  },
  create: (side) =>
    configuredTransform(extractFieldConfig, side, (cfg) => {
      const path = new SingleFieldPath(cfg.string(FIELD), parseSyntaxVersion(cfg.string(FIELD_SYNTAX_VERSION)), FIELD);
      const replaceNull = cfg.bool(REPLACE_NULL_WITH_DEFAULT);
      return (record: ConnectRecord) => {
        const schema = operatingSchema(record, side);
        const value = operatingValue(record, side);
        if (schema === null) {
          const map = requireMapOrNull(value, PURPOSE);
          return withOperating(record, side, null, map === null ? null : path.valueFromMap(map));
        }
        const struct = requireStructOrNull(value, PURPOSE);
        const field = path.fieldFrom(schema);
        if (field === undefined) throw new DataError(`Unknown field: ${path.text}`, path.text);
        return withOperating(
          record,
          side,
          field.schema,
          struct === null ? null : path.valueFromStruct(struct, replaceNull),
        );
      };
    }),
});

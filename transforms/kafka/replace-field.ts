import {
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  type Schema,
  SchemaBuilder,
  Struct,
  StructCopyPlan,
  type TransformationPlugin,
  Validators,
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
  javaSplit,
  refuseRemovedKeys,
} from './field-common.js';

/**
 * ReplaceField: keeps, drops and renames top-level fields, as Connect 4.x's. Connect 4.0 removed the deprecated
 * `blacklist`/`whitelist` (3.9's names for `exclude`/`include`): 4.x no longer honours them and ignores them like
 * any unknown key. Ignoring a `blacklist` would publish the fields a 3.9 user meant to drop, so we refuse a config
 * that still sets one (REMOVED_KEYS), naming the key to use instead.
 */

const PURPOSE = 'field replacement';
const RENAMES = 'renames';

/** Connect's parseRenameMappings: each item must split on ':' into exactly two parts. */
function parseRenames(name: string, mappings: readonly string[]): Map<string, string> {
  const renames = new Map<string, string>();
  for (const mapping of mappings) {
    const parts = javaSplit(mapping, ':');
    if (parts.length !== 2) throw ConfigError.invalid(name, mappings.join(','), `Invalid rename mapping: ${mapping}`);
    renames.set(parts[0]!, parts[1]!);
  }
  return renames;
}

export const replaceFieldConfig = defineReplaceNullWithDefault(
  new ConfigDef()
    .define({
      name: 'exclude',
      type: 'LIST',
      defaultValue: '',
      importance: 'MEDIUM',
      documentation: 'Fields to exclude. This takes precedence over the fields to include.',
    })
    .define({
      name: 'include',
      type: 'LIST',
      defaultValue: '',
      importance: 'MEDIUM',
      documentation: 'Fields to include. If specified, only these fields will be used.',
    })
    .define({
      name: RENAMES,
      type: 'LIST',
      defaultValue: '',
      importance: 'MEDIUM',
      documentation: 'Field rename mappings.',
      validator: Validators.custom('list of colon-delimited pairs, e.g. foo:bar,abc:xyz', (name, value) => {
        parseRenames(name, (value as string[] | null) ?? []);
      }),
      example: 'SHPMT_NO:shipmentNumber,Z_CUST_CD:customerCode',
    }),
);

/** The keys Connect 4.0 removed from ReplaceField, refused with what to use instead (see the comment at the top). */
export const REPLACE_FIELD_REMOVED_KEYS: Readonly<Record<string, string>> = {
  blacklist: "'blacklist' was removed in Kafka Connect 4.0 and is no longer honoured; use 'exclude'",
  whitelist: "'whitelist' was removed in Kafka Connect 4.0 and is no longer honoured; use 'include'",
};

export const replaceFieldPlugins: TransformationPlugin[] = keyValueVariants({
  className: 'org.apache.kafka.connect.transforms.ReplaceField',
  summary: 'Filter or rename top-level fields',
  config: replaceFieldConfig,
  removedKeys: REPLACE_FIELD_REMOVED_KEYS,
  example: {
    'transforms.clean.type': 'org.apache.kafka.connect.transforms.ReplaceField$Value',
    'transforms.clean.exclude': 'INTERNAL_FLAG',
    'transforms.clean.renames': 'SHPMT_NO:shipmentNumber,Z_CUST_CD:customerCode',
  },
  create: (side) =>
    configuredTransform(replaceFieldConfig, side, (cfg, _side, props) => {
      refuseRemovedKeys(props, REPLACE_FIELD_REMOVED_KEYS);
      const exclude = new Set(cfg.list('exclude'));
      const include = new Set(cfg.list('include'));
      const renames = parseRenames(RENAMES, cfg.list(RENAMES));
      const replaceNull = cfg.bool(REPLACE_NULL_WITH_DEFAULT);
      const keep = (name: string): boolean => !exclude.has(name) && (include.size === 0 || include.has(name));
      const renamed = (name: string): string => renames.get(name) ?? name;
      // Per input schema: the output schema and, per output field, the input field it copies.
      const cache = new SchemaCache<StructCopyPlan>();
      const plan = (schema: Schema): StructCopyPlan =>
        cache.getOrCompute(schema, () => {
          const builder = copySchemaBasics(schema, SchemaBuilder.struct());
          const sources = (schema.fields ?? []).filter((f) => keep(f.name));
          for (const f of sources) builder.field(renamed(f.name), f.schema);
          const target = builder.build();
          return new StructCopyPlan(
            schema,
            target,
            sources.map((f, i) => [f, target.fields![i]!] as const),
          );
        });

      return (record: ConnectRecord) => {
        const value = operatingValue(record, side);
        if (value === null || value === undefined) return record;
        const schema = operatingSchema(record, side);
        if (schema === null) {
          const map = requireMap(value, PURPOSE);
          const out: PlainObject = {};
          for (const [name, v] of Object.entries(map)) if (keep(name)) out[renamed(name)] = v;
          return withOperating(record, side, null, out);
        }
        const struct = requireStruct(value, PURPOSE);
        const copy = plan(struct.schema);
        const newSchema = copy.target;
        const out = new Struct(newSchema).copyFields(struct, copy, replaceNull);
        return withOperating(record, side, newSchema, out);
      };
    }),
});

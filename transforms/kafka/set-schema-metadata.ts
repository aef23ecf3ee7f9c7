import {
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  type RawConfig,
  type Schema,
  Struct,
  type Transformation,
} from '../../runtime/api/index.js';
import {
  SchemaCache,
  type Side,
  keyValueVariants,
  operatingSchema,
  operatingValue,
  requireSchema,
  withOperating,
} from '../support.js';
import { REPLACE_NULL_WITH_DEFAULT, defineReplaceNullWithDefault, readField } from './field-common.js';
import { copyWithStructDefault } from './struct-default.js';

const SCHEMA_NAME = 'schema.name';
const SCHEMA_VERSION = 'schema.version';

export const SET_SCHEMA_METADATA_CONFIG = defineReplaceNullWithDefault(
  new ConfigDef()
    .define({
      name: SCHEMA_NAME,
      type: 'STRING',
      defaultValue: null,
      importance: 'HIGH',
      documentation: 'Schema name to set.',
    })
    .define({
      name: SCHEMA_VERSION,
      type: 'INT',
      defaultValue: null,
      importance: 'HIGH',
      documentation: 'Schema version to set.',
    }),
);

/**
 * Connect's SetSchemaMetadata: replaces the key/value schema's name and/or version, keeping type, fields,
 * parameters, doc, optionality and default, and rebinds a Struct to the renamed schema. Requires a schema;
 * a null value without a schema passes through. Renamed schemas are cached by the input schema's identity,
 * so every record of one schema shares one renamed schema.
 */
export class SetSchemaMetadata implements Transformation {
  private name: string | null = null;
  private version: number | null = null;
  private replaceNullWithDefault = true;
  private readonly renamed = new SchemaCache();

  constructor(private readonly side: Side) {}

  configure(props: RawConfig): void {
    const config = SET_SCHEMA_METADATA_CONFIG.parse(props);
    this.name = config.stringOrNull(SCHEMA_NAME);
    this.version = config.intOrNull(SCHEMA_VERSION);
    this.replaceNullWithDefault = config.bool(REPLACE_NULL_WITH_DEFAULT);
    if (this.name === null && this.version === null) {
      throw new ConfigError(`Neither schema name nor version configured (set ${SCHEMA_NAME} and/or ${SCHEMA_VERSION})`);
    }
  }

  apply<R extends ConnectRecord>(record: R): R {
    const schema = operatingSchema(record, this.side);
    const value = operatingValue(record, this.side);
    if (schema === null && (value === null || value === undefined)) return record;
    const updated = this.renamed.getOrCompute(requireSchema(schema, 'updating schema metadata'), (s) => this.rename(s));
    return withOperating(record, this.side, updated, this.rebind(value, updated));
  }

  private rename(schema: Schema): Schema {
    const changes = {
      ...(this.name !== null ? { name: this.name } : {}),
      ...(this.version !== null ? { version: this.version } : {}),
    };
    return copyWithStructDefault(schema, changes, (dflt, self) => this.rebind(dflt, self) as Struct);
  }

  private rebind(value: unknown, schema: Schema): unknown {
    if (!(value instanceof Struct)) return value;
    const struct = new Struct(schema);
    for (const f of schema.fields ?? []) struct.put(f.name, readField(value, f, this.replaceNullWithDefault));
    return struct;
  }

  close(): void {}
}

export const setSchemaMetadataPlugins = keyValueVariants({
  className: 'org.apache.kafka.connect.transforms.SetSchemaMetadata',
  summary: "Sets the schema's name and/or version",
  config: SET_SCHEMA_METADATA_CONFIG,
  example: {
    transforms: 'name',
    'transforms.name.type': 'org.apache.kafka.connect.transforms.SetSchemaMetadata$Value',
    'transforms.name.schema.name': 'com.example.erp.Shipment',
    'transforms.name.schema.version': '2',
  },
  create: (side) => new SetSchemaMetadata(side),
});

import {
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  DataError,
  Headers,
  type RawConfig,
  type Schema,
  SchemaBuilder,
  Struct,
  type Transformation,
  Validators,
  newRecord,
} from '../../runtime/api/index.js';
import {
  SchemaCache,
  type Side,
  keyValueVariants,
  operatingSchema,
  operatingValue,
  requireMap,
  requireStruct,
  withOperating,
} from '../support.js';
import {
  REPLACE_NULL_WITH_DEFAULT,
  copySchemaBasics,
  defineReplaceNullWithDefault,
  readField,
} from './field-common.js';

const FIELDS = 'fields';
const HEADERS = 'headers';
const OPERATION = 'operation';

export const HEADER_FROM_CONFIG = defineReplaceNullWithDefault(
  new ConfigDef()
    .define({
      name: FIELDS,
      type: 'LIST',
      validator: Validators.nonEmptyList(),
      importance: 'HIGH',
      documentation: 'Field names in the record whose values are to be copied or moved to headers.',
    })
    .define({
      name: HEADERS,
      type: 'LIST',
      validator: Validators.nonEmptyList(),
      importance: 'HIGH',
      documentation: 'Header names, in the same order as the field names listed in the fields configuration property.',
    })
    .define({
      name: OPERATION,
      type: 'STRING',
      validator: Validators.in('move', 'copy'),
      importance: 'HIGH',
      documentation:
        'Either `move` if the fields are to be moved to the headers (removed from the key/value), or `copy` if the ' +
        'fields are to be copied to the headers (retained in the key/value).',
    }),
);

/**
 * Connect's HeaderFrom: copies or moves top-level fields of the key/value into headers. With a schema the
 * header carries the field's schema; schemaless headers have none. A null key/value fails, as in Connect
 * (use RecordIsTombstone with negate=true to skip tombstones).
 */
export class HeaderFrom implements Transformation {
  private fields: string[] = [];
  private headers: string[] = [];
  private move = false;
  private replaceNullWithDefault = true;
  private readonly moveSchemas = new SchemaCache();

  constructor(private readonly side: Side) {}

  configure(props: RawConfig): void {
    const config = HEADER_FROM_CONFIG.parse(props);
    this.fields = config.list(FIELDS);
    this.headers = config.list(HEADERS);
    if (this.fields.length !== this.headers.length) {
      throw new ConfigError(
        `'${FIELDS}' config must have the same number of elements as '${HEADERS}' config ` +
          `(${this.fields.length} fields, ${this.headers.length} headers).`,
        HEADERS,
      );
    }
    this.move = config.string(OPERATION) === 'move';
    this.replaceNullWithDefault = config.bool(REPLACE_NULL_WITH_DEFAULT);
  }

  private get purpose(): string {
    return `header ${this.move ? 'move' : 'copy'}`;
  }

  apply<R extends ConnectRecord>(record: R): R {
    const schema = operatingSchema(record, this.side);
    return schema === null ? this.applySchemaless(record) : this.applyWithSchema(record, schema);
  }

  private applyWithSchema<R extends ConnectRecord>(record: R, schema: Schema): R {
    const value = requireStruct(operatingValue(record, this.side), this.purpose);
    let headers = record.headers;
    for (let i = 0; i < this.fields.length; i++) {
      const name = this.fields[i]!;
      const field = schema.fields?.find((f) => f.name === name);
      if (!field) {
        throw new DataError(
          `Field "${name}" named in '${FIELDS}' does not exist in the record ${this.side} schema`,
          name,
        );
      }
      headers = Headers.add(
        headers,
        this.headers[i]!,
        readField(value, field, this.replaceNullWithDefault),
        field.schema,
      );
    }
    if (!this.move) return newRecord(record, { headers });
    const moved = this.moveSchemas.getOrCompute(schema, (s) => this.moveSchema(s));
    const updated = new Struct(moved);
    for (const f of moved.fields ?? []) updated.put(f.name, readField(value, f, this.replaceNullWithDefault));
    return newRecord(withOperating(record, this.side, moved, updated), { headers });
  }

  private moveSchema(schema: Schema): Schema {
    const builder = copySchemaBasics(schema, SchemaBuilder.struct());
    for (const f of schema.fields ?? []) if (!this.fields.includes(f.name)) builder.field(f.name, f.schema);
    return builder.build();
  }

  private applySchemaless<R extends ConnectRecord>(record: R): R {
    const value = requireMap(operatingValue(record, this.side), this.purpose);
    const updated = { ...value };
    let headers = record.headers;
    for (let i = 0; i < this.fields.length; i++) {
      const name = this.fields[i]!;
      if (this.move) delete updated[name];
      headers = Headers.add(headers, this.headers[i]!, value[name] ?? null, null);
    }
    return newRecord(withOperating(record, this.side, null, updated), { headers });
  }

  close(): void {}
}

export const headerFromPlugins = keyValueVariants({
  className: 'org.apache.kafka.connect.transforms.HeaderFrom',
  summary: 'Copies or moves fields of the key or value into headers',
  config: HEADER_FROM_CONFIG,
  example: {
    transforms: 'tenantHeader',
    'transforms.tenantHeader.type': 'org.apache.kafka.connect.transforms.HeaderFrom$Value',
    'transforms.tenantHeader.fields': 'tenant_id',
    'transforms.tenantHeader.headers': 'tenant',
    'transforms.tenantHeader.operation': 'copy',
  },
  create: (side) => new HeaderFrom(side),
});

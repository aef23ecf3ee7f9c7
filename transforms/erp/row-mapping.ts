import {
  type ConnectRecord,
  DataError,
  type Schema,
  SchemaBuilder,
  Struct,
  describeValue,
  newRecord,
} from '../../runtime/api/index.js';
import { readEnvelope } from '../debezium/envelope.js';
import { optionalCopy, structBuilderLike } from '../debezium/struct-utils.js';
import { type PlainObject, SchemaCache, isPlainObject } from '../support.js';

/**
 * Applies a row-level change to a record's value: a plain row (Struct or object), or the `before` and
 * `after` rows of a Debezium envelope, so ERP SMTs work before and after unwrapping. Derived schemas are
 * cached by the identity of the input schema.
 */
export interface RowChange {
  /** The output row schema for an input row schema (called once per distinct schema). */
  rowSchema(input: Schema): Schema;
  struct(row: Struct, output: Schema): Struct;
  object(row: PlainObject): PlainObject;
}

const NOT_A_ROW: Schema = SchemaBuilder.struct().name('erpstream.internal.NotARow').build();

export class RowMapper {
  private readonly rowSchemas = new SchemaCache();
  private readonly envelopeSchemas = new SchemaCache();
  /** Per struct schema: the output row schema, or NOT_A_ROW for an envelope. */
  private readonly plainRows = new SchemaCache();

  constructor(
    private readonly change: RowChange,
    private readonly purpose: string,
  ) {}

  apply(record: ConnectRecord): ConnectRecord {
    const value = record.value;
    if (value === null || value === undefined) return record;
    if (value instanceof Struct) {
      // Whether a struct is an envelope or a row is a property of its schema: decided once per schema.
      const rowOut = this.plainRows.getOrCompute(value.schema, (s) =>
        readEnvelope(record.valueSchema, value) === null ? this.rowSchemaFor(s) : NOT_A_ROW,
      );
      if (rowOut !== NOT_A_ROW) {
        return { ...record, valueSchema: rowOut, value: this.change.struct(value, rowOut) };
      }
    }
    const env = readEnvelope(record.valueSchema, value);
    if (env && env.value instanceof Struct) {
      if (!env.rowSchema) return record;
      const envSchema = env.value.schema;
      const rowOut = this.rowSchemaFor(env.rowSchema);
      const outSchema = this.envelopeSchemas.getOrCompute(envSchema, (s) => withRowSchema(s, rowOut));
      const out = new Struct(outSchema);
      for (const f of envSchema.fields ?? []) {
        const v = env.value.getWithoutDefault(f.name);
        const isRow = (f.name === 'before' || f.name === 'after') && v instanceof Struct;
        out.put(f.name, isRow ? this.change.struct(v, this.rowSchemaFor(v.schema)) : v);
      }
      return newRecord(record, { valueSchema: outSchema, value: out });
    }
    if (env) {
      const out: PlainObject = { ...(env.value as PlainObject) };
      for (const k of ['before', 'after']) if (isPlainObject(out[k])) out[k] = this.change.object(out[k]);
      return newRecord(record, { value: out });
    }
    if (isPlainObject(value)) return newRecord(record, { value: this.change.object(value) });
    throw new DataError(`${this.purpose}: the value must be a Struct or an object, found ${describeValue(value)}`);
  }

  private rowSchemaFor(input: Schema): Schema {
    return this.rowSchemas.getOrCompute(input, (s) => this.change.rowSchema(s));
  }
}

function withRowSchema(envSchema: Schema, rowSchema: Schema): Schema {
  const b = structBuilderLike(envSchema);
  const optionalRow = optionalCopy(rowSchema);
  for (const f of envSchema.fields ?? []) {
    b.field(f.name, f.name === 'before' || f.name === 'after' ? optionalRow : f.schema);
  }
  return b.build();
}

import type { Headers, SourceOffset, SourcePartition, SourceRecord } from './record.js';
import { type Schema, Struct } from './schema.js';

/**
 * A struct's field values in its schema's field order, nested structs as StructValues too, as a source connector
 * computed them: the same values a Struct would hold, without the Struct objects (and their per-field checks) on the
 * hot path. A connector makes its records with `recordWithValues`, whose `value` builds the Struct on first use; the
 * worker gives the values to a converter that declares `acceptsStructValues` only when the connector has no
 * transforms. A converter that cannot write a value from them writes `toStruct()` instead: the bytes must be the
 * same either way.
 */
export class StructValues {
  private built: Struct | null = null;

  constructor(
    readonly schema: Schema,
    readonly values: readonly unknown[],
  ) {}

  /** The Struct these values stand for, built once; every field goes through Struct.putAt and its check. */
  toStruct(): Struct {
    if (this.built !== null) return this.built;
    const s = new Struct(this.schema);
    const fields = this.schema.fields!;
    for (let i = 0; i < fields.length; i++) {
      const v = this.values[i];
      if (v === undefined) continue;
      s.putAt(fields[i]!, v instanceof StructValues ? v.toStruct() : v);
    }
    this.built = s;
    return s;
  }
}

/** One getter for every such record: an own accessor defined with the same getter keeps their shapes shared. */
const VALUE = {
  get(this: RecordWithValues): Struct {
    return this.structValues().toStruct();
  },
  enumerable: true,
};

// Fields are declared, not defined: the constructor's assignments give them the usual order, `value` included.
class RecordWithValues {
  declare readonly topic: string;
  declare readonly kafkaPartition: number | null;
  declare readonly keySchema: Schema | null;
  declare readonly key: unknown;
  declare readonly valueSchema: Schema | null;
  declare readonly value: unknown;
  declare readonly timestamp: number | null;
  declare readonly headers: Headers;
  declare readonly sourcePartition: SourcePartition;
  declare readonly sourceOffset: SourceOffset;
  // Private: not a property anyone copies or compares; a spread copy of the record carries the built Struct instead.
  readonly #values: StructValues;

  constructor(r: Omit<SourceRecord, 'value' | 'valueSchema'>, values: StructValues) {
    this.topic = r.topic;
    this.kafkaPartition = r.kafkaPartition;
    this.keySchema = r.keySchema;
    this.key = r.key;
    this.valueSchema = values.schema;
    // An own enumerable property (the fields keep their usual order): a spread copy reads it, so carries the Struct.
    Object.defineProperty(this, 'value', VALUE);
    this.timestamp = r.timestamp;
    this.headers = r.headers;
    this.sourcePartition = r.sourcePartition;
    this.sourceOffset = r.sourceOffset;
    this.#values = values;
  }

  structValues(): StructValues {
    return this.#values;
  }

  static valuesOf(record: object): StructValues | undefined {
    return #values in record ? record.#values : undefined;
  }
}

/** A source record whose value is the Struct of `values`, built when something first reads it. */
export function recordWithValues(
  record: Omit<SourceRecord, 'value' | 'valueSchema'>,
  values: StructValues,
): SourceRecord {
  return new RecordWithValues(record, values);
}

/** The StructValues of a record made by recordWithValues (not of a copy of it). */
export function structValuesOf(record: object): StructValues | undefined {
  return RecordWithValues.valuesOf(record);
}

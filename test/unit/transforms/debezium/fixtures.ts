import {
  type ConnectRecord,
  type Schema,
  SchemaBuilder,
  Schemas,
  type SourceRecord,
  Struct,
  type Transformation,
  type TransformationPlugin,
} from '../../../../runtime/api/index.js';

/** Debezium-shaped change events for SMT tests. */

export const sourceSchema = SchemaBuilder.struct()
  .name('io.debezium.connector.postgresql.Source')
  .field('version', Schemas.STRING)
  .field('connector', Schemas.STRING)
  .field('ts_ms', Schemas.INT64)
  .field('db', Schemas.STRING)
  .field('schema', Schemas.STRING)
  .field('table', Schemas.STRING)
  .field('lsn', Schemas.OPTIONAL_INT64)
  .build();

export function envelopeSchema(rowSchema: Schema, name = 'erp.public.shipment.Envelope'): Schema {
  return SchemaBuilder.struct()
    .name(name)
    .field('before', rowSchema)
    .field('after', rowSchema)
    .field('source', sourceSchema)
    .field('op', Schemas.STRING)
    .field('ts_ms', Schemas.OPTIONAL_INT64)
    .build();
}

export function source(table: string, lsn: bigint | null = 100n): Struct {
  return new Struct(sourceSchema)
    .put('version', '0.1.0')
    .put('connector', 'erpstream')
    .put('ts_ms', 1_700_000_000_000n)
    .put('db', 'erp')
    .put('schema', 'public')
    .put('table', table)
    .put('lsn', lsn);
}

export function envelope(
  envSchema: Schema,
  op: string,
  before: Struct | null,
  after: Struct | null,
  table = 'shipment',
): Struct {
  return new Struct(envSchema)
    .put('before', before)
    .put('after', after)
    .put('source', source(table))
    .put('op', op)
    .put('ts_ms', 1_700_000_000_500n);
}

export function record(partial: Partial<SourceRecord>): SourceRecord {
  return {
    topic: 'erp.public.shipment',
    kafkaPartition: null,
    keySchema: null,
    key: null,
    valueSchema: null,
    value: null,
    timestamp: 1_700_000_000_900,
    headers: [],
    sourcePartition: { table: 'shipment' },
    sourceOffset: { version: '42' },
    ...partial,
  };
}

export async function configured(
  plugin: TransformationPlugin,
  props: Record<string, string> = {},
): Promise<Transformation> {
  const t = plugin.create();
  await t.configure(props);
  return t;
}

export function headerValue(r: ConnectRecord | null, key: string): unknown {
  return r?.headers.filter((h) => h.key === key).at(-1)?.value;
}

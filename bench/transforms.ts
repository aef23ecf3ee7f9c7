/**
 * Throughput of a CRM-cleanup transform chain and of Avro serialization of its output.
 *
 *   chain: 20-field ERP struct → ReplaceField (renames) → Cast → InsertField → CleanSchema → AttachVersion
 *          target ≥ 300,000 records/s on one core
 *   avro:  the chain's output through io.confluent.connect.avro.AvroConverter against the real schema
 *          registry (SCHEMA_REGISTRY_URL), target ≥ 200,000 records/s
 *
 * Records come from a pool of 1,024 distinct rows sharing one schema (as a table's stream does), so
 * the figures measure the transforms, not the generator, and schema caches behave as in production.
 */
import {
  type Converter,
  Decimal,
  DecimalType,
  type Schema,
  SchemaBuilder,
  Schemas,
  type SourceRecord,
  Struct,
  TimestampType,
} from '../runtime/api/index.js';
import { builtinRegistry } from '../bundle/builtin.js';
import { ChainConfigError, TransformChain } from '../runtime/transforms/index.js';
import { type Bench, type BenchContext, BenchSetupError, measure, printResult } from './support.js';

const POOL = 1024;
export const CHAIN_TARGET = 300_000;
export const AVRO_TARGET = 200_000;
export const AVRO_CONVERTER = 'io.confluent.connect.avro.AvroConverter';

/** A shipment row as a CRM/ERP change table holds it: cryptic names, codes, blanks, exact money. */
export function shipmentSchema(): Schema {
  const optString = Schemas.OPTIONAL_STRING;
  return SchemaBuilder.struct()
    .name('erp.LOGISTICS.SHPMT')
    .field('SHPMT_NO', Schemas.STRING)
    .field('SHPMT_ID', Schemas.INT64)
    .field('Z_CUST_CD', Schemas.STRING)
    .field('Z_CUST_NM', optString)
    .field('ORIG_PLANT_CD', Schemas.STRING)
    .field('DEST_PLANT_CD', Schemas.STRING)
    .field('CARRIER_NM', optString)
    .field('ROUTE_NO', Schemas.INT32)
    .field('PKG_CNT', Schemas.INT32)
    .field('LINE_CNT', Schemas.INT32)
    .field('GROSS_WGT', DecimalType.builder(3, 12).build())
    .field('NET_AMT', DecimalType.builder(4, 18).build())
    .field('CURR_CD', Schemas.STRING)
    .field('IS_HAZMAT', Schemas.BOOLEAN)
    .field('IS_DLTD', Schemas.BOOLEAN)
    .field('REMARKS_TXT', optString)
    .field('CRTD_TS', TimestampType.builder().build())
    .field('dtUpdt', TimestampType.builder().optional().build())
    .field('SEQ_NO', Schemas.INT64)
    .field('ROW_VERS', Schemas.INT64)
    .build();
}

export function shipmentRecord(schema: Schema, i: number): SourceRecord {
  const value = new Struct(schema)
    .put('SHPMT_NO', `SH${String(1_000_000 + i)}`)
    .put('SHPMT_ID', 9_007_199_254_740_993n + BigInt(i))
    .put('Z_CUST_CD', `C${(i % 97).toString().padStart(4, '0')}  `)
    .put('Z_CUST_NM', i % 5 === 0 ? '   ' : `Customer ${i % 97}`)
    .put('ORIG_PLANT_CD', 'DE01')
    .put('DEST_PLANT_CD', i % 2 === 0 ? 'NL02' : 'FR03')
    .put('CARRIER_NM', i % 7 === 0 ? '' : 'DHL Freight')
    .put('ROUTE_NO', 400 + (i % 50))
    .put('PKG_CNT', 1 + (i % 40))
    .put('LINE_CNT', 1 + (i % 12))
    .put('GROSS_WGT', new Decimal(BigInt(12_345 + i), 3))
    .put('NET_AMT', new Decimal(12_345_678_901_234_5678n + BigInt(i), 4))
    .put('CURR_CD', 'EUR')
    .put('IS_HAZMAT', i % 11 === 0)
    .put('IS_DLTD', false)
    .put('REMARKS_TXT', i % 3 === 0 ? null : 'handle with care')
    .put('CRTD_TS', new Date(1_700_000_000_000 + i * 1000))
    .put('dtUpdt', new Date(1_700_000_500_000 + i * 1000))
    .put('SEQ_NO', BigInt(5_000_000 + i))
    .put('ROW_VERS', BigInt(80_000_000 + i));
  return {
    topic: 'erp.LOGISTICS.SHPMT',
    kafkaPartition: null,
    keySchema: Schemas.STRING,
    key: `SH${String(1_000_000 + i)}`,
    valueSchema: schema,
    value,
    timestamp: 1_700_000_600_000 + i,
    headers: [],
    sourcePartition: { table: 'LOGISTICS.SHPMT' },
    sourceOffset: { seq: 5_000_000 + i },
  };
}

/** The chain a customer would write to clean this table; keys are the SMTs' documented ones. */
export const benchChainConfig: Readonly<Record<string, string>> = {
  name: 'bench-crm-cleanup',
  transforms: 'rename,cast,insert,clean,version',
  'transforms.rename.type': 'org.apache.kafka.connect.transforms.ReplaceField$Value',
  'transforms.rename.renames':
    'SHPMT_NO:shipmentNo,SHPMT_ID:shipmentId,Z_CUST_CD:customerCode,Z_CUST_NM:customerName,' +
    'ORIG_PLANT_CD:originPlant,DEST_PLANT_CD:destinationPlant,CARRIER_NM:carrier,GROSS_WGT:grossWeight,NET_AMT:netAmount',
  'transforms.rename.exclude': 'IS_DLTD',
  'transforms.cast.type': 'org.apache.kafka.connect.transforms.Cast$Value',
  'transforms.cast.spec': 'ROUTE_NO:string,PKG_CNT:int64,LINE_CNT:int16',
  'transforms.insert.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
  'transforms.insert.topic.field': 'sourceTopic',
  'transforms.insert.timestamp.field': 'ingestedAt',
  'transforms.insert.static.field': 'sourceSystem',
  'transforms.insert.static.value': 'erp',
  'transforms.clean.type': 'CleanSchema',
  'transforms.clean.strip.prefixes': 'Z_',
  'transforms.clean.case': 'camel',
  'transforms.version.type': 'AttachVersion',
  'transforms.version.version.source': 'field',
  'transforms.version.version.field': 'rowVers',
  'transforms.version.field.name': 'version',
};

async function buildChain(): Promise<TransformChain> {
  try {
    return await TransformChain.build(benchChainConfig, { registry: builtinRegistry() });
  } catch (error) {
    if (error instanceof ChainConfigError) {
      throw new BenchSetupError(
        `the bench chain does not build (a plugin is missing or its config changed):\n  ${error.message.replace(/\n/g, '\n  ')}`,
      );
    }
    throw error;
  }
}

async function avroConverter(env: NodeJS.ProcessEnv): Promise<Converter> {
  const url = env.SCHEMA_REGISTRY_URL;
  if (!url) {
    throw new BenchSetupError(
      'SCHEMA_REGISTRY_URL is not set: start the stack (scripts/stack up) and run eval "$(scripts/stack env)".',
    );
  }
  const plugin = builtinRegistry().find('converter', AVRO_CONVERTER);
  if (!plugin) throw new BenchSetupError(`converter plugin ${AVRO_CONVERTER} is not registered (runtime/converters).`);
  const converter = plugin.create();
  await converter.configure({ 'schema.registry.url': url, 'auto.register.schemas': 'true' }, false);
  return converter;
}

export const transformsBench: Bench = {
  name: 'transforms',
  description: 'CRM cleanup chain (≥300k records/s) and Avro serialization (≥200k records/s)',
  async run(ctx: BenchContext) {
    const schema = shipmentSchema();
    const pool = Array.from({ length: POOL }, (_, i) => shipmentRecord(schema, i));
    const chain = await buildChain();
    const converter = await avroConverter(ctx.env);
    try {
      let kept = 0;
      const chainResult = await measure(
        { bench: 'transforms', case: 'chain', target: CHAIN_TARGET },
        ctx.records,
        (i) => {
          if (chain.apply(pool[i & (POOL - 1)]!) !== null) kept++;
        },
      );
      if (kept === 0) throw new Error('the bench chain dropped every record; the figures would be meaningless');
      printResult(chainResult, ctx.log);

      const transformed = pool.map((r) => chain.apply(r)!);
      const topic = `bench.transforms.${process.pid}`;
      let bytes = 0;
      const avroResult = await measure(
        { bench: 'transforms', case: 'avro', target: AVRO_TARGET, notes: `registry ${ctx.env.SCHEMA_REGISTRY_URL}` },
        ctx.records,
        async (i) => {
          const r = transformed[i & (POOL - 1)]!;
          const out = await converter.fromConnectData(topic, r.headers, r.valueSchema, r.value);
          bytes += out?.length ?? 0;
        },
        { async: true },
      );
      printResult(
        { ...avroResult, notes: `${avroResult.notes}; ${(bytes / ctx.records).toFixed(0)} bytes/record` },
        ctx.log,
      );
      return [chainResult, avroResult];
    } finally {
      await chain.close();
      await converter.close?.();
    }
  },
};

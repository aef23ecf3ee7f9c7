/**
 * Converter throughput on one core: a 20-field ERP struct (int64, decimals, timestamps, strings,
 * booleans, optionals) through
 *
 *   avro: io.confluent.connect.avro.AvroConverter against the real registry (SCHEMA_REGISTRY_URL),
 *         serialize target ≥ 200,000 records/s (issue 3); deserialize reported
 *   json: org.apache.kafka.connect.json.JsonConverter (schemas.enable=true, the Connect default), reported
 *
 * Records come from a pool of 1,024 distinct rows sharing one schema, as a table's stream does. The
 * registry is called once per schema (serialize) and once per id (deserialize); the loop measures CPU.
 *
 *   npx tsx bench/converters.ts            (BENCH_RECORDS=200000 by default here)
 */
import { pathToFileURL } from 'node:url';
import type { Converter, Struct } from '../runtime/api/index.js';
import { AvroConverter, JsonConverter } from '../runtime/converters/index.js';
import { type Bench, type BenchContext, type BenchResult, BenchSetupError, measure, printResult } from './support.js';
import { AVRO_TARGET, shipmentRecord, shipmentSchema } from './transforms.js';

const POOL = 1024;

async function converterCases(
  ctx: BenchContext,
  name: string,
  converter: Converter,
  target: number | null,
  registryUrl?: string,
): Promise<BenchResult[]> {
  const schema = shipmentSchema();
  const values = Array.from({ length: POOL }, (_, i) => shipmentRecord(schema, i).value as Struct);
  const topic = `bench_converters_${Date.now().toString(36)}`;
  const encoded = await Promise.all(values.map((v) => converter.fromConnectData(topic, [], schema, v)));
  const serialize = await measure(
    { bench: 'converters', case: `${name}-serialize`, target, notes: '20-field struct, one schema' },
    ctx.records,
    (i) => converter.fromConnectData(topic, [], schema, values[i % POOL]!),
    { async: true },
  );
  const deserialize = await measure(
    { bench: 'converters', case: `${name}-deserialize`, target: null, notes: '20-field struct, one schema id' },
    ctx.records,
    (i) => converter.toConnectData(topic, [], encoded[i % POOL]!),
    { async: true },
  );
  if (registryUrl !== undefined) await deleteSubject(registryUrl, `${topic}-value`);
  return [serialize, deserialize];
}

/** The bench registers one subject per run; leave the registry as it was. */
async function deleteSubject(registryUrl: string, subject: string): Promise<void> {
  for (const q of ['', '?permanent=true']) {
    await fetch(`${registryUrl.replace(/\/$/, '')}/subjects/${subject}${q}`, { method: 'DELETE' }).catch(
      () => undefined,
    );
  }
}

export const convertersBench: Bench = {
  name: 'converters',
  description: 'AvroConverter (real registry) and JsonConverter serialize/deserialize of a 20-field struct',
  async run(ctx) {
    const url = ctx.env.SCHEMA_REGISTRY_URL;
    if (!url) throw new BenchSetupError('SCHEMA_REGISTRY_URL is not set: eval "$(scripts/stack env)"');
    const avro = new AvroConverter();
    avro.configure({ 'schema.registry.url': url }, false);
    const json = new JsonConverter();
    json.configure({}, false);
    const results = [
      ...(await converterCases(ctx, 'avro', avro, AVRO_TARGET, url)),
      ...(await converterCases(ctx, 'json', json, null)),
    ];
    for (const r of results) printResult(r, ctx.log);
    return results;
  },
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const records = Number(process.env.BENCH_RECORDS ?? 200_000);
  convertersBench.run({ env: process.env, records, log: (l) => process.stdout.write(`${l}\n`) }).then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(e instanceof BenchSetupError ? 2 : 1);
    },
  );
}

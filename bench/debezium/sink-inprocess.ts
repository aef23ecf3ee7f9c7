/**
 * The sink side of the debezium bench's `sink` case without Kafka or a worker, for profiling: N Debezium snapshot
 * events (JsonConverter with schemas, the envelope the bench's snapshot writes) decoded by the JsonConverter and
 * put() into a LookupSink task (jdbc destination, the bench's settings) in batches, in this process. Prints the CPU
 * µs per record of decoding and of put() (this process only: PostgreSQL's CPU is not in it, as in the bench).
 *
 *   eval "$(scripts/stack env)"
 *   SINK_ROWS=50000 npx tsx bench/debezium/sink-inprocess.ts
 *   SINK_ROWS=50000 node --cpu-prof --import tsx bench/debezium/sink-inprocess.ts
 *
 * SINK_BATCH (default 500, about what a fetch of one partition holds), SINK_ROUNDS (default 1: each round
 * truncates the target and uses a new ledger).
 */
import pg from 'pg';
import { Headers, type SinkRecord } from '../../runtime/api/index.js';
import { JsonConverter } from '../../runtime/converters/json-converter.js';
import { LookupSinkTask } from '../../connectors/lookup-sink/index.js';
import { benchSinkContext } from '../support.js';
import { insertRows } from './cases.js';

const COLUMNS = `id bigint PRIMARY KEY, ref varchar(40) NOT NULL, customer_id integer, amount numeric(19,4),
  weight numeric(12,3), qty integer, status varchar(20), note text, created_at timestamp(6), updated_at timestamptz,
  due date, priority smallint, active boolean, tracking varchar(36), payload text`;

const ROW_FIELDS = [
  '{"type":"int64","optional":false,"field":"id"}',
  '{"type":"string","optional":false,"field":"ref"}',
  '{"type":"int32","optional":true,"field":"customer_id"}',
  '{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"4","connect.decimal.precision":"19"},"field":"amount"}',
  '{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"3","connect.decimal.precision":"12"},"field":"weight"}',
  '{"type":"int32","optional":true,"field":"qty"}',
  '{"type":"string","optional":true,"field":"status"}',
  '{"type":"string","optional":true,"field":"note"}',
  '{"type":"int64","optional":true,"name":"io.debezium.time.MicroTimestamp","version":1,"field":"created_at"}',
  '{"type":"string","optional":true,"name":"io.debezium.time.ZonedTimestamp","version":1,"field":"updated_at"}',
  '{"type":"int32","optional":true,"name":"io.debezium.time.Date","version":1,"field":"due"}',
  '{"type":"int16","optional":true,"field":"priority"}',
  '{"type":"boolean","optional":true,"field":"active"}',
  '{"type":"string","optional":true,"field":"tracking"}',
  '{"type":"string","optional":true,"field":"payload"}',
].join(',');

/** The envelope schema Debezium 3.6's PostgreSQL connector writes for the bench's table (snapshot events). */
function valueSchema(name: string): string {
  const row = (field: string) =>
    `{"type":"struct","fields":[${ROW_FIELDS}],"optional":true,"name":"${name}.Value","field":"${field}"}`;
  const source =
    '{"type":"struct","fields":[{"type":"string","optional":false,"field":"version"},{"type":"string","optional":false,"field":"connector"},{"type":"string","optional":false,"field":"name"},{"type":"int64","optional":false,"field":"ts_ms"},{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"default":"false","field":"snapshot"},{"type":"string","optional":false,"field":"db"},{"type":"string","optional":true,"field":"sequence"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"},{"type":"string","optional":false,"field":"schema"},{"type":"string","optional":false,"field":"table"},{"type":"int64","optional":true,"field":"txId"},{"type":"int64","optional":true,"field":"lsn"},{"type":"int64","optional":true,"field":"xmin"},{"type":"string","optional":true,"field":"origin"},{"type":"int64","optional":true,"field":"origin_lsn"}],"optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source"}';
  const txn =
    '{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":false,"field":"total_order"},{"type":"int64","optional":false,"field":"data_collection_order"}],"optional":true,"name":"event.block","version":1,"field":"transaction"}';
  return `{"type":"struct","fields":[${row('before')},${row('after')},${source},${txn},{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"}],"optional":false,"name":"${name}.Envelope","version":2}`;
}

function events(n: number, name: string, schema: string): Array<{ key: Buffer; value: Buffer }> {
  const keySchema = `{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}],"optional":false,"name":"${name}.Key"}`;
  const vs = valueSchema(name);
  const out: Array<{ key: Buffer; value: Buffer }> = [];
  for (let g = 1; g <= n; g++) {
    const after = `{"id":${g},"ref":"REF-${g}","customer_id":${g % 1000},"amount":"MDk=","weight":"A+g=","qty":${g % 7},"status":"st${g % 5}","note":"c4ca4238a0b923820dcc509a6f75849b","created_at":1796562646681507,"updated_at":"2026-12-06T13:10:46.681507Z","due":20793,"priority":${g % 3},"active":${g % 2 === 0},"tracking":"3d0b30ed-1029-4d4c-8908-eb5c4bb0bd10","payload":"{\\"g\\":${g}}"}`;
    const source = `{"version":"3.6.1.Final","connector":"postgresql","name":"${name}","ts_ms":1796562666473,"snapshot":"true","db":"erpstream","sequence":"[null,\\"17955504128\\"]","ts_us":1796562666473559,"ts_ns":1796562666473559000,"schema":"${schema}","table":"src","txId":788062,"lsn":17955504128,"xmin":null,"origin":null,"origin_lsn":null}`;
    const value = `{"schema":${vs},"payload":{"before":null,"after":${after},"source":${source},"transaction":null,"op":"r","ts_ms":1796562669773,"ts_us":1796562669773514,"ts_ns":1796562669773514338}}`;
    out.push({ key: Buffer.from(`{"schema":${keySchema},"payload":{"id":${g}}}`), value: Buffer.from(value) });
  }
  return out;
}

const context = benchSinkContext('h-sink-inprocess');

const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function main(): Promise<void> {
  const pgUrl = process.env.PG_URL;
  if (!pgUrl) throw new Error('PG_URL is not set: eval "$(scripts/stack env)"'); // a dev script's usage error
  const rows = Number(process.env.SINK_ROWS ?? 50_000);
  const batch = Number(process.env.SINK_BATCH ?? 500);
  const rounds = Number(process.env.SINK_ROUNDS ?? 1);
  const schema = `h_sink_inproc_${rows}`;
  const topic = `h-sink-inproc.${schema}.src`;
  const db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  const exists = await db.query(
    `SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'src'`,
    [schema],
  );
  if (exists.rowCount === 0) {
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.query(`CREATE SCHEMA ${schema}`);
    await db.query(`CREATE TABLE ${schema}.src (${COLUMNS})`);
    await insertRows(db, `${schema}.src`, 1, rows);
    await db.query(`CREATE TABLE ${schema}.dst (${COLUMNS}, erpstream_version numeric(20,0))`);
  }
  const input = events(rows, 'h-sink-inproc', schema);
  for (let round = 0; round < rounds; round++) {
    await db.query(`TRUNCATE ${schema}.dst`);
    await db.query(`DROP TABLE IF EXISTS ${schema}.ledger, ${schema}.park`);
    const key = new JsonConverter();
    key.configure({ 'schemas.enable': 'true' }, true);
    const value = new JsonConverter();
    value.configure({ 'schemas.enable': 'true' }, false);
    let deliverCpu = 0;
    const task = new LookupSinkTask({
      // The destination's own share of put(): nothing else runs while it awaits PostgreSQL.
      wrapDestination: (d) =>
        Object.assign(Object.create(d) as typeof d, {
          deliver: async (...args: Parameters<typeof d.deliver>) => {
            const c = cpuMicros();
            try {
              return await d.deliver(...args);
            } finally {
              deliverCpu += cpuMicros() - c;
            }
          },
        }),
    });
    task.initialize(context);
    await task.start({
      'connector.class': 'LookupSink',
      topics: topic,
      'lookup.connection.url': pgUrl,
      'lookup.table': `${schema}.src`,
      'lookup.key.columns': 'id',
      'version.field': 'source.lsn',
      'entity.name': 'order',
      'destination.type': 'jdbc',
      'destination.name': 'inproc',
      'destination.table': `${schema}.dst`,
      'ledger.table': `${schema}.ledger`,
      'park.table': `${schema}.park`,
    });
    let decodeCpu = 0;
    let putCpu = 0;
    const started = Date.now();
    const headers = Headers.of({});
    for (let from = 0; from < rows; from += batch) {
      const c0 = cpuMicros();
      const records: SinkRecord[] = [];
      for (let i = from; i < Math.min(rows, from + batch); i++) {
        const k = key.toConnectDataSync(topic, headers, input[i]!.key);
        const v = value.toConnectDataSync(topic, headers, input[i]!.value);
        const offset = BigInt(i);
        records.push({
          topic,
          kafkaPartition: 0,
          keySchema: k.schema,
          key: k.value,
          valueSchema: v.schema,
          value: v.value,
          timestamp: Date.now(),
          headers,
          kafkaOffset: offset,
          timestampType: 'CreateTime',
          originalTopic: topic,
          originalKafkaPartition: 0,
          originalKafkaOffset: offset,
        });
      }
      const c1 = cpuMicros();
      await task.put(records);
      await task.preCommit(new Map([[{ topic, partition: 0 }, BigInt(from + records.length)]]));
      decodeCpu += c1 - c0;
      putCpu += cpuMicros() - c1;
    }
    // Whatever put() left in flight (a pipelining destination) is part of the run.
    const f0 = cpuMicros();
    await task.flush();
    putCpu += cpuMicros() - f0;
    const seconds = (Date.now() - started) / 1000;
    const n = Number((await db.query(`SELECT count(*) AS n FROM ${schema}.dst`)).rows[0].n);
    await task.stop();
    console.log(
      JSON.stringify({
        round,
        rows,
        delivered: n,
        batch,
        decode_us_per_record: Math.round((decodeCpu / rows) * 10) / 10,
        put_us_per_record: Math.round((putCpu / rows) * 10) / 10,
        of_which_deliver_us_per_record: Math.round((deliverCpu / rows) * 10) / 10,
        rows_per_s: Math.round(rows / seconds),
        load_average_1m: (await import('node:os')).loadavg()[0],
      }),
    );
  }
  await db.end();
}

await main();

import { loadavg } from 'node:os';
import pg from 'pg';
import type { Admin, Kafka } from 'kafkajs';
import { changeTableDdl, changeTriggersDdl } from '../../connectors/erp-source/setup-sql.js';
import { createConsumer, ensureTopics } from '../../runtime/kafka/index.js';
import { ConnectorHandle, pgParts } from './connect.js';
import { cpuSecondsOf, rssPeak, sleep, waitUntil } from './process.js';

/**
 * The cases of the side-by-side bench. Each measures one side at a time (the other side's connector is stopped),
 * on the same PostgreSQL, Kafka and rows; the caller interleaves the sides round by round.
 */

export interface Sides {
  /** erpstream distributed worker: REST URL and process id */
  erp: { url: string; pid: number };
  /** the bench's own Kafka Connect JVM */
  dbz: { url: string; pid: number };
}

export interface Env {
  pgUrl: string;
  brokers: string;
  kafka: Kafka;
  admin: Admin;
  db: pg.Client;
  suffix: string;
  partitions: number;
  /** JsonConverter schemas.enable for the source cases (the sink case always needs schemas: Debezium's sink does) */
  schemas: boolean;
  erpSourceConfig: Record<string, string>;
  dbzSourceConfig: Record<string, string>;
  erpLatencyConfig: Record<string, string>;
  erpSinkConfig: Record<string, string>;
  dbzLatencyConfig: Record<string, string>;
  /**
   * Topics to delete once both workers are stopped. Not earlier: an erpstream worker whose client has produced to
   * a topic that is then deleted keeps failing its metadata requests ("This server does not host this
   * topic-partition"), new topics included, so the next round's connector could not start.
   */
  topicsToDelete: string[];
  log(line: string): void;
}

export type Side = 'erpstream' | 'debezium';

export interface SideFigures {
  side: Side;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  cpuSeconds: number;
  cpuMicrosPerEvent: number;
  peakRssMb: number;
  loadAverage: number;
}

// ~15 columns: decimals, timestamps, text; distinct payloads (md5) so nothing compresses away.
const COLUMNS = `id bigint PRIMARY KEY, ref varchar(40) NOT NULL, customer_id integer, amount numeric(19,4),
  weight numeric(12,3), qty integer, status varchar(20), note text, created_at timestamp(6), updated_at timestamptz,
  due date, priority smallint, active boolean, tracking varchar(36), payload text`;
const rowsSql = (from: number, to: number) => `SELECT g, 'REF-' || g, g % 1000, (g * 1.2345)::numeric(19,4),
  g % 500, g % 7, 'st' || (g % 5), md5(g::text), clock_timestamp(), clock_timestamp(), current_date,
  (g % 3)::smallint, g % 2 = 0, gen_random_uuid()::text, '{"g":' || g || '}' FROM generate_series(${from}, ${to}) g`;

export async function insertRows(db: pg.Client, table: string, from: number, to: number): Promise<void> {
  for (let f = from; f <= to; f += 50_000)
    await db.query(`INSERT INTO ${table} ${rowsSql(f, Math.min(to, f + 49_999))}`);
}

const json = (schemas: boolean, prefix: 'key' | 'value') => ({
  [`${prefix}.converter`]: 'org.apache.kafka.connect.json.JsonConverter',
  [`${prefix}.converter.schemas.enable`]: String(schemas),
});
const converters = (schemas: boolean) => ({ ...json(schemas, 'key'), ...json(schemas, 'value') });

/** A schema with the captured tables (`plain`: without the ErpSource triggers), the change table and triggers. */
async function captureSchema(env: Env, schema: string, tables: string[], plain: string[] = []): Promise<void> {
  await env.db.query(`CREATE SCHEMA ${schema}`);
  for (const t of plain) await env.db.query(`CREATE TABLE ${schema}.${t} (${COLUMNS})`);
  const changeTable = `${schema}.change_log`;
  for (const ddl of changeTableDdl('postgresql', { changeTable, keyColumns: ['record_id'] })) await env.db.query(ddl);
  for (const t of tables) {
    await env.db.query(`CREATE TABLE ${schema}.${t} (${COLUMNS})`);
    for (const ddl of changeTriggersDdl('postgresql', {
      changeTable,
      keyColumns: ['record_id'],
      table: `${schema}.${t}`,
      baseKeyColumns: ['id'],
    })) {
      await env.db.query(ddl);
    }
  }
}

function erpSourceConfig(env: Env, schema: string, table: string, prefix: string, extra: Record<string, string>) {
  return {
    'connector.class': 'ErpSource',
    'tasks.max': '1',
    'connection.url': env.pgUrl,
    'change.table': `${schema}.change_log`,
    'topic.prefix': prefix,
    'table.include.list': `${schema}\\.${table}`,
    'snapshot.mode': 'never',
    ...converters(env.schemas),
    ...extra,
  };
}

function dbzSourceConfig(
  env: Env,
  schema: string,
  table: string,
  prefix: string,
  slot: string,
  extra: Record<string, string>,
) {
  const p = pgParts(env.pgUrl);
  return {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'tasks.max': '1',
    'database.hostname': p.host,
    'database.port': p.port,
    'database.user': p.user,
    'database.password': p.password,
    'database.dbname': p.db,
    'topic.prefix': prefix,
    'plugin.name': 'pgoutput',
    'slot.name': slot,
    'publication.name': slot,
    'publication.autocreate.mode': 'filtered',
    'table.include.list': `${schema}.${table}`,
    'snapshot.mode': 'no_data',
    ...converters(env.schemas),
    ...extra,
  };
}

/** Records in the topics (sum of end offsets: the topics are new, so this counts every record, duplicates too). */
async function countRecords(admin: Admin, topics: string[]): Promise<number> {
  let sum = 0;
  for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) sum += Number(p.offset);
  return sum;
}

async function dropSlot(env: Env, slot: string): Promise<void> {
  // The slot stays active for a moment after its connector is deleted.
  for (let i = 0; i < 50; i++) {
    try {
      await env.db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [
        slot,
      ]);
      break;
    } catch {
      await sleep(200);
    }
  }
  await env.db.query(`DROP PUBLICATION IF EXISTS ${slot}`).catch(() => {});
}

/**
 * Runs `body` on one side, resumed from STOPPED, and measures its process from the resume until `done()`: wall
 * time, CPU (the whole worker process or JVM, producer included), peak RSS.
 */
async function measureSide(
  side: Side,
  pid: number,
  start: () => Promise<void>,
  done: () => Promise<boolean>,
  events: () => Promise<number>,
  timeoutMs: number,
): Promise<SideFigures> {
  const rss = rssPeak(pid);
  const cpu0 = cpuSecondsOf(pid);
  const t0 = performance.now();
  await start();
  await waitUntil(done, timeoutMs, `${side} to finish`, 50);
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuSecondsOf(pid) - cpu0;
  const peakRssMb = rss.stop();
  const n = await events();
  return {
    side,
    events: n,
    seconds,
    eventsPerSecond: n / seconds,
    cpuSeconds,
    cpuMicrosPerEvent: (cpuSeconds * 1e6) / n,
    peakRssMb,
    loadAverage: loadavg()[0]!,
  };
}

/**
 * Drain: N changes committed while both connectors are STOPPED at a position before them, then each side is
 * resumed alone and timed until its topic holds all N (+1 warm-up) records.
 */
export async function drainRound(env: Env, sides: Sides, rows: number, round: number): Promise<SideFigures[]> {
  const tag = `${env.suffix}_${rows}_${round}`;
  const schema = `dbzb_${tag}`;
  const slot = `dbzb_${tag}`;
  const erpTopic = `erpb${tag}.${schema}.orders`;
  const dbzTopic = `dbzb${tag}.${schema}.orders`;
  const erp = new ConnectorHandle(sides.erp.url, `bench-erp-drain-${tag}`.replaceAll('_', '-'));
  const dbz = new ConnectorHandle(sides.dbz.url, `bench-dbz-drain-${tag}`.replaceAll('_', '-'));
  try {
    await captureSchema(env, schema, ['orders']);
    await ensureTopics(
      env.admin,
      [erpTopic, dbzTopic].map((topic) => ({ topic, numPartitions: env.partitions })),
    );
    await erp.create(erpSourceConfig(env, schema, 'orders', `erpb${tag}`, env.erpSourceConfig));
    await dbz.create(dbzSourceConfig(env, schema, 'orders', `dbzb${tag}`, slot, env.dbzSourceConfig));
    await Promise.all([erp.waitFor('RUNNING'), dbz.waitFor('RUNNING')]);
    // One warm-up change both capture: then each has a committed position before the backlog.
    await waitUntil(
      async () => {
        await env.db.query(`DELETE FROM ${schema}.orders WHERE id = 0`);
        await insertRows(env.db, `${schema}.orders`, 0, 0);
        await sleep(1500);
        const got = [await countRecords(env.admin, [erpTopic]), await countRecords(env.admin, [dbzTopic])];
        if (got[0]! >= 1 && got[1]! >= 1) return true;
        throw new Error(`records so far: erpstream ${got[0]}, debezium ${got[1]}`);
      },
      300_000,
      'both connectors to capture the warm-up change',
      0,
    );
    const warm = { erp: await countRecords(env.admin, [erpTopic]), dbz: await countRecords(env.admin, [dbzTopic]) };
    await sleep(2500); // an offset flush on both (1 s on Connect, 0.5 s on erpstream)
    await Promise.all([erp.stop(), dbz.stop()]);
    env.log(`debezium/drain: round ${round}: committing ${rows.toLocaleString('en-US')} changes…`);
    await insertRows(env.db, `${schema}.orders`, 1, rows);
    const timeoutMs = Math.max(300_000, rows * 5);
    const figures: SideFigures[] = [];
    for (const [side, handle, pid, topic, before] of [
      ['erpstream', erp, sides.erp.pid, erpTopic, warm.erp],
      ['debezium', dbz, sides.dbz.pid, dbzTopic, warm.dbz],
    ] as const) {
      const f = await measureSide(
        side,
        pid,
        () => handle.resume(),
        async () => (await countRecords(env.admin, [topic])) - before >= rows,
        async () => {
          await sleep(1000); // late duplicates would show here
          return (await countRecords(env.admin, [topic])) - before;
        },
        timeoutMs,
      );
      if (f.events !== rows) env.log(`debezium/drain: WARNING ${side} wrote ${f.events} records for ${rows} changes`);
      figures.push(f);
      await handle.stop();
    }
    return figures;
  } finally {
    await erp.delete();
    await dbz.delete();
    await dropSlot(env, slot);
    env.topicsToDelete.push(erpTopic, dbzTopic);
    await env.db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
  }
}

/**
 * Sink input: N rows snapshotted by Debezium's PostgreSQL connector (JsonConverter with schemas: Debezium's JDBC
 * sink needs them), produced once and consumed by every round under a new consumer group.
 */
export async function prepareSinkInput(
  env: Env,
  sides: Sides,
  rows: number,
): Promise<{ schema: string; topic: string; cleanup(): Promise<void> }> {
  const tag = `${env.suffix}_${rows}`;
  const schema = `dbzs_${tag}`;
  const slot = `dbzs_${tag}`;
  const topic = `dbzs${tag}.${schema}.src`;
  await env.db.query(`CREATE SCHEMA ${schema}`);
  await env.db.query(`CREATE TABLE ${schema}.src (${COLUMNS})`);
  env.log(`debezium/sink: loading ${rows.toLocaleString('en-US')} rows and snapshotting them into ${topic}…`);
  await insertRows(env.db, `${schema}.src`, 1, rows);
  // Targets: the same columns; the LookupSink's also holds the delivered version.
  await env.db.query(`CREATE TABLE ${schema}.dst_dbz (${COLUMNS})`);
  await env.db.query(`CREATE TABLE ${schema}.dst_erp (${COLUMNS}, erpstream_version numeric(20,0))`);
  await ensureTopics(env.admin, [{ topic, numPartitions: env.partitions }]);
  const snap = new ConnectorHandle(sides.dbz.url, `bench-dbz-sinkinput-${tag}`.replaceAll('_', '-'));
  const cleanup = async () => {
    env.topicsToDelete.push(topic);
    await env.db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
  };
  try {
    await snap.create({
      ...dbzSourceConfig({ ...env, schemas: true }, schema, 'src', `dbzs${tag}`, slot, {}),
      'snapshot.mode': 'initial_only',
    });
    await waitUntil(
      async () => (await countRecords(env.admin, [topic])) >= rows,
      Math.max(300_000, rows * 5),
      `the snapshot of ${rows} rows into ${topic}`,
      500,
    );
  } catch (e) {
    await cleanup();
    throw e;
  } finally {
    await snap.delete();
    await dropSlot(env, slot);
  }
  return { schema, topic, cleanup };
}

/** Sink: each side consumes the pre-loaded topic from the start until the target table holds all N rows. */
export async function sinkRound(
  env: Env,
  sides: Sides,
  input: { schema: string; topic: string },
  rows: number,
  round: number,
): Promise<SideFigures[]> {
  const { schema, topic } = input;
  const tag = `${env.suffix}-${rows}-${round}`;
  const p = pgParts(env.pgUrl);
  const figures: SideFigures[] = [];
  const count = async (table: string) =>
    Number((await env.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.${table}`)).rows[0]!.n);
  const every = rows > 300_000 ? 500 : 200;
  const countEvery = (table: string) => {
    let last = 0;
    return async () => {
      if (Date.now() - last < every) return false;
      last = Date.now();
      return (await count(table)) >= rows;
    };
  };
  // erpstream: the LookupSink looks each id up in the origin table (batched) and upserts it, version-guarded.
  const erp = new ConnectorHandle(sides.erp.url, `bench-erp-sink-${tag}`);
  await env.db.query(`TRUNCATE ${schema}.dst_erp`);
  try {
    figures.push(
      await measureSide(
        'erpstream',
        sides.erp.pid,
        () =>
          erp.create({
            'connector.class': 'LookupSink',
            'tasks.max': '1',
            topics: topic,
            ...converters(true),
            // tuned as Debezium's side is: the consumer fetching more per poll (about 5 KB per record here)
            'consumer.override.max.partition.fetch.bytes': '8388608',
            'consumer.override.fetch.max.bytes': '52428800',
            'lookup.connection.url': env.pgUrl,
            'lookup.table': `${schema}.src`,
            'lookup.key.columns': 'id',
            // a snapshot's events share one LSN; a per-id version is all the ledger needs
            'version.field': 'source.lsn',
            'entity.name': 'order',
            'destination.type': 'jdbc',
            'destination.name': `bench_${round}`,
            'destination.table': `${schema}.dst_erp`,
            'ledger.table': `${schema}.ledger_${round}`,
            'park.table': `${schema}.park_${round}`,
            ...env.erpSinkConfig,
          }),
        countEvery('dst_erp'),
        () => count('dst_erp'),
        Math.max(300_000, rows * 5),
      ),
    );
  } finally {
    await erp.delete();
  }
  // Debezium's JDBC sink: upsert from the record's own row, primary key from the record key.
  const dbz = new ConnectorHandle(sides.dbz.url, `bench-dbz-sink-${tag}`);
  await env.db.query(`TRUNCATE ${schema}.dst_dbz`);
  try {
    figures.push(
      await measureSide(
        'debezium',
        sides.dbz.pid,
        () =>
          dbz.create({
            'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
            'tasks.max': '1',
            topics: topic,
            ...converters(true),
            'connection.url': `jdbc:postgresql://${p.host}:${p.port}/${p.db}?currentSchema=${schema}`,
            'connection.username': p.user,
            'connection.password': p.password,
            'insert.mode': 'upsert',
            'primary.key.mode': 'record_key',
            'primary.key.fields': 'id',
            'schema.evolution': 'none',
            'collection.name.format': 'dst_dbz',
            // tuned as Debezium's docs advise: larger batches, and the consumer fetching that many per poll
            'batch.size': '4096',
            'consumer.override.max.poll.records': '4096',
          }),
        countEvery('dst_dbz'),
        () => count('dst_dbz'),
        Math.max(300_000, rows * 5),
      ),
    );
  } finally {
    await dbz.delete();
  }
  return figures;
}

export interface LatencyFigures {
  side: Side;
  changes: number;
  received: number;
  p50: number;
  p99: number;
  max: number;
  loadAverage: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** The id in a JsonConverter key, with or without its schema envelope. */
function idOf(key: Buffer | null): string | null {
  if (!key) return null;
  const k = JSON.parse(key.toString('utf8')) as Record<string, unknown>;
  const payload = (k.payload ?? k) as Record<string, unknown>;
  return payload.id === undefined ? null : String(payload.id);
}

/**
 * Latency at a steady 1,000 changes/s (10 rows every 10 ms): commit (the INSERT returned) → the record's
 * LogAppendTime in Kafka. Each side captures its own table of the same shape, so neither starts behind the
 * other's changes; both connectors run, each side is measured alone.
 */
export async function latencyRound(env: Env, sides: Sides, seconds: number, round: number): Promise<LatencyFigures[]> {
  const tag = `${env.suffix}_${round}`;
  const schema = `dbzl_${tag}`;
  const slot = `dbzl_${tag}`;
  const erpTopic = `erpl${tag}.${schema}.orders_erp`;
  const dbzTopic = `dbzl${tag}.${schema}.orders_dbz`;
  const erp = new ConnectorHandle(sides.erp.url, `bench-erp-latency-${tag}`.replaceAll('_', '-'));
  const dbz = new ConnectorHandle(sides.dbz.url, `bench-dbz-latency-${tag}`.replaceAll('_', '-'));
  const arrived = new Map<string, number>();
  const consumer = createConsumer(env.kafka, { groupId: `bench-latency-${tag}`, maxWaitTimeInMs: 100 });
  try {
    await captureSchema(env, schema, ['orders_erp'], ['orders_dbz']);
    await ensureTopics(
      env.admin,
      [erpTopic, dbzTopic].map((topic) => ({
        topic,
        numPartitions: env.partitions,
        configs: { 'message.timestamp.type': 'LogAppendTime' },
      })),
    );
    await erp.create(erpSourceConfig(env, schema, 'orders_erp', `erpl${tag}`, env.erpLatencyConfig));
    await dbz.create(dbzSourceConfig(env, schema, 'orders_dbz', `dbzl${tag}`, slot, env.dbzLatencyConfig));
    await Promise.all([erp.waitFor('RUNNING'), dbz.waitFor('RUNNING')]);
    await consumer.connect();
    await consumer.subscribe({ topics: [erpTopic, dbzTopic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const id = idOf(m.key);
          if (id !== null) arrived.set(`${batch.topic}/${id}`, Number(m.timestamp));
        }
      },
    });
    // Warm-up: both capture a change before the clock starts.
    await waitUntil(
      async () => {
        for (const t of ['orders_erp', 'orders_dbz']) {
          await env.db.query(`DELETE FROM ${schema}.${t} WHERE id = 0`);
          await insertRows(env.db, `${schema}.${t}`, 0, 0);
        }
        await sleep(1500);
        if (arrived.has(`${erpTopic}/0`) && arrived.has(`${dbzTopic}/0`)) return true;
        throw new Error(
          `records so far: ${JSON.stringify(await Promise.all([erpTopic, dbzTopic].map((t) => countRecords(env.admin, [t]))))}, ` +
            `keys seen: ${[...arrived.keys()].slice(0, 5).join(', ')}`,
        );
      },
      300_000,
      'both connectors to capture the warm-up change',
      0,
    );
    const out: LatencyFigures[] = [];
    for (const [side, table, topic] of [
      ['erpstream', 'orders_erp', erpTopic],
      ['debezium', 'orders_dbz', dbzTopic],
    ] as const) {
      const committed = new Map<string, number>();
      const writer = new pg.Client({ connectionString: env.pgUrl });
      await writer.connect();
      try {
        const start = Date.now();
        let next = 1;
        for (let tick = 1; Date.now() - start < seconds * 1000; tick++) {
          const from = next;
          next += 10;
          await writer.query(`INSERT INTO ${schema}.${table} ${rowsSql(from, from + 9)}`);
          const now = Date.now();
          for (let id = from; id < from + 10; id++) committed.set(String(id), now);
          const due = start + tick * 10;
          if (due > Date.now()) await sleep(due - Date.now());
        }
      } finally {
        await writer.end();
      }
      await waitUntil(
        () => [...committed.keys()].every((id) => arrived.has(`${topic}/${id}`)),
        30_000,
        `${side} to deliver its last change`,
      ).catch(() => env.log(`debezium/latency: WARNING ${side} did not deliver every change within 30 s`));
      const latencies: number[] = [];
      for (const [id, at] of committed) {
        const got = arrived.get(`${topic}/${id}`);
        if (got !== undefined) latencies.push(got - at);
      }
      latencies.sort((a, b) => a - b);
      out.push({
        side,
        changes: committed.size,
        received: latencies.length,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies.at(-1) ?? NaN,
        loadAverage: loadavg()[0]!,
      });
    }
    return out;
  } finally {
    await consumer.disconnect().catch(() => {});
    await erp.delete();
    await dbz.delete();
    await dropSlot(env, slot);
    env.topicsToDelete.push(erpTopic, dbzTopic);
    await env.db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
  }
}

export interface IdleFigures {
  seconds: number;
  erpCpuSecondsPerMinute: number;
  dbzCpuSecondsPerMinute: number;
  erpRssMb: number;
  dbzRssMb: number;
  loadAverage: number;
}

/** Idle: both workers without connectors, side by side over the same minutes; CPU seconds per minute. */
export async function idleCase(sides: Sides, seconds: number, settleSeconds: number): Promise<IdleFigures> {
  // Idle is the steady state: the last case's deletions, and the collections that follow a busy spell on both sides
  // (V8's memory reducer, the JVM's), are not part of it.
  await sleep(settleSeconds * 1000);
  const erpRss = rssPeak(sides.erp.pid);
  const dbzRss = rssPeak(sides.dbz.pid);
  const e0 = cpuSecondsOf(sides.erp.pid);
  const d0 = cpuSecondsOf(sides.dbz.pid);
  await sleep(seconds * 1000);
  const perMinute = (cpu: number) => (cpu * 60) / seconds;
  return {
    seconds,
    erpCpuSecondsPerMinute: perMinute(cpuSecondsOf(sides.erp.pid) - e0),
    dbzCpuSecondsPerMinute: perMinute(cpuSecondsOf(sides.dbz.pid) - d0),
    erpRssMb: erpRss.stop(),
    dbzRssMb: dbzRss.stop(),
    loadAverage: loadavg()[0]!,
  };
}

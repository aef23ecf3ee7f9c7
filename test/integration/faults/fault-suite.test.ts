import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Struct } from '../../../runtime/api/index.js';
import { changeTableDdl, changeTriggersDdl } from '../../../connectors/erp-source/setup-sql.js';
import { AvroConverter } from '../../../runtime/converters/index.js';
import { type Consumer, createConsumer, createKafka } from '../../../runtime/kafka/index.js';
import { type WorkerProcess, startWorkerProcess } from '../../support/erpstream-cli.js';
import { waitFor } from '../../support/worker.js';
import { clusterProps } from '../worker/distributed/cluster.js';
import {
  type PrivateService,
  createConnector,
  endWorkerProcess,
  privateKafka,
  privatePostgres,
  privateRegistry,
  workerRest,
} from './private-stack.js';

/**
 * Issue 20: faults at run time need no person. A standalone worker runs an ErpSource streaming three tables
 * (three writer sessions, each owning its keys, so commits come out of sequence order across sessions) and a
 * FileStreamSink consuming the topics, against a PRIVATE broker, registry and PostgreSQL (the shared stack is never
 * touched). Faults: broker SIGKILL for ERPSTREAM_FAULT_DOWN_MS (20 s), registry SIGKILL with a schema change
 * meanwhile, pg_terminate_backend, a PostgreSQL restart and PostgreSQL stopped for the outage (a source task, then
 * the source connector with its tasks, restarted during it). Counted against the database: lost, duplicated and
 * out-of-order records; asserted: no task or connector was ever FAILED (no manual restart), and the status said what
 * it waited for. Recovery times (fault end → first change committed after it seen on the topic) are printed.
 * ERPSTREAM_FAULT_ROUNDS repeats the fault sequence.
 */

const DOWN_MS = Number(process.env.ERPSTREAM_FAULT_DOWN_MS ?? 20_000);
const ROUNDS = Math.max(1, Number(process.env.ERPSTREAM_FAULT_ROUNDS ?? 1));
const TABLES = ['t0', 't1', 't2'];
const WRITERS = 3;
const KEYS = 60;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Each key's latest change in the change table: `<topic>|<key>` → its sequence (the version of its last event). */
/** A client for the test's own queries, again after the database came back (its errors are the test's to see). */
async function adminClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  return c;
}

async function latestChanges(admin: pg.Client, schema: string, prefix: string): Promise<Map<string, bigint>> {
  const rows = (
    await admin.query(
      `SELECT table_name, record_id, max(seq) AS m FROM ${schema}.change_log GROUP BY table_name, record_id`,
    )
  ).rows as Array<{ table_name: string; record_id: string; m: string }>;
  return new Map(rows.map((r) => [`${prefix}.${r.table_name}|${r.record_id}`, BigInt(r.m)]));
}

/** Each key's highest version read: `<topic>|<key>` → version. */
function highestVersions(seen: ReadonlyArray<{ topic: string; key: number; version: bigint }>): Map<string, bigint> {
  const top = new Map<string, bigint>();
  for (const s of seen) {
    const k = `${s.topic}|${s.key}`;
    if ((top.get(k) ?? -1n) < s.version) top.set(k, s.version);
  }
  return top;
}

/** Waits (up to 3 minutes) until every key's latest change was read; what is still missing then counts as lost. */
async function drained(
  expected: ReadonlyMap<string, bigint>,
  seen: ReadonlyArray<{ topic: string; key: number; version: bigint }>,
  abort?: () => string | null,
): Promise<void> {
  await waitFor(
    () => {
      const top = highestVersions(seen);
      return [...expected].every(([k, v]) => (top.get(k) ?? -1n) >= v);
    },
    180_000,
    'every committed change on the topics',
    { abort },
  ).catch(() => null);
}

/** Whether the broker lists every one of `topics`. */
async function topicsListed(client: ReturnType<typeof createKafka>, topics: readonly string[]): Promise<boolean> {
  const a = client.admin();
  await a.connect();
  try {
    const listed = await a.listTopics();
    return topics.every((t) => listed.includes(t));
  } finally {
    await a.disconnect();
  }
}

/** A client on the database with `schema`'s change table and the captured TABLES (triggers included). */
async function capturedTables(url: string, schema: string): Promise<pg.Client> {
  const admin = new pg.Client({ connectionString: url });
  admin.on('error', () => {});
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  for (const ddl of changeTableDdl('postgresql', { changeTable: `${schema}.change_log`, keyColumns: ['record_id'] }))
    await admin.query(ddl);
  for (const t of TABLES) {
    await admin.query(`CREATE TABLE ${schema}.${t} (id integer PRIMARY KEY, val integer NOT NULL)`);
    for (const ddl of changeTriggersDdl('postgresql', {
      changeTable: `${schema}.change_log`,
      keyColumns: ['record_id'],
      table: `${schema}.${t}`,
      baseKeyColumns: ['id'],
    }))
      await admin.query(ddl);
  }
  return admin;
}

interface Seen {
  topic: string;
  partition: number;
  offset: string;
  key: number;
  version: bigint;
  value: Buffer | null;
  at: number;
  phase: string;
}

/** Writer sessions: each owns the keys ≡ its number (mod WRITERS) and runs short transactions; survives DB faults. */
class Writers {
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  errors = 0;
  commits = 0;
  constructor(
    private readonly url: string,
    private readonly schema: string,
  ) {}

  start(): void {
    for (let w = 0; w < WRITERS; w++) this.loops.push(this.loop(w));
  }

  private async loop(w: number): Promise<void> {
    let client: pg.Client | null = null;
    while (!this.stopped) {
      try {
        if (!client) {
          client = new pg.Client({ connectionString: this.url });
          client.on('error', () => {});
          await client.connect();
        }
        await client.query('BEGIN');
        const ops = 1 + Math.floor(Math.random() * 3);
        for (let i = 0; i < ops; i++) {
          const table = TABLES[Math.floor(Math.random() * TABLES.length)]!;
          const key = w + WRITERS * Math.floor(Math.random() * (KEYS / WRITERS));
          const t = `"${this.schema}"."${table}"`;
          const r = Math.random();
          if (r < 0.15) await client.query(`DELETE FROM ${t} WHERE id = $1`, [key]);
          else
            await client.query(
              `INSERT INTO ${t} (id, val) VALUES ($1, 1) ON CONFLICT (id) DO UPDATE SET val = ${t}.val + 1`,
              [key],
            );
          // Held open a little: other sessions commit later-numbered changes meanwhile (out-of-order commits).
          if (Math.random() < 0.3) await sleep(Math.random() * 40);
        }
        await client.query('COMMIT');
        this.commits++;
        await sleep(5 + Math.random() * 20);
      } catch {
        this.errors++;
        await client?.end().catch(() => {});
        client = null;
        await sleep(300);
      }
    }
    await client?.end().catch(() => {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

describe('fault suite: broker, registry and database faults need no manual restart', () => {
  let dir: string;
  let kafka: PrivateService;
  let registry: PrivateService;
  let db: Awaited<ReturnType<typeof privatePostgres>>;
  let admin: pg.Client;
  let worker: WorkerProcess | null = null;
  let consumer: Consumer | null = null;
  const schema = 'erp';
  const prefix = 'fault';
  const seen: Seen[] = [];
  const failures: string[] = [];
  const waits = new Set<string>();
  let polling = true;
  /** The fault most recently begun: duplicates are counted per phase. */
  let phase = 'steady';
  let poller: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-fault-'));
    [kafka, registry, db] = await Promise.all([privateKafka(dir), privateRegistry(dir), privatePostgres()]);
    admin = await capturedTables(db.url, schema);
  }, 300_000);

  afterAll(async () => {
    polling = false;
    await poller;
    await consumer?.disconnect().catch(() => {});
    await endWorkerProcess(worker);
    await admin?.end().catch(() => {});
    await Promise.allSettled([kafka?.destroy(), registry?.destroy(), db?.destroy()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  const rest = async <T>(p: string): Promise<T> => (await (await fetch(`${worker!.url}${p}`)).json()) as T;

  /** Watches both connectors' status all along: a FAILED would need a person; a waiting trace is what we expect. */
  const watchStatus = async () => {
    while (polling) {
      for (const name of ['erp', 'sink']) {
        try {
          const s = await rest<{
            connector: { state: string; trace?: string };
            tasks: Array<{ id: number; state: string; trace?: string; waiting?: { for: string } }>;
          }>(`/connectors/${name}/status`);
          if (s.connector.state === 'FAILED') failures.push(`${name}: ${s.connector.trace ?? ''}`);
          for (const t of s.tasks) {
            if (t.state === 'FAILED') failures.push(`${name}-${t.id}: ${(t.trace ?? '').split('\n')[0]}`);
            if (t.waiting) waits.add(`${name}: ${t.waiting.for}`);
          }
        } catch {
          // the worker is still starting
        }
      }
      await sleep(250);
    }
  };

  /** A FAILED status seen: the task needs a person, so waiting for its recovery is pointless. */
  const failed = () => (failures.length > 0 ? `a task went FAILED (a manual restart needed): ${failures[0]}` : null);

  const maxSeq = async (): Promise<bigint> =>
    BigInt((await admin.query(`SELECT coalesce(max(seq), 0) AS m FROM ${schema}.change_log`)).rows[0].m as string);

  /**
   * Fault end → the first write to a topic after it (its end offset grows: the source writes again) and → the first
   * change committed after the fault end read back from a topic (includes the reader's own reconnect).
   */
  const recovery = async (what: string, faultEnd: number): Promise<{ written: number; read: number }> => {
    const after = await maxSeq();
    const a = createKafka({ brokers: kafka.url, clientId: 'fault-ends', logLevel: 'nothing' }).admin();
    await a.connect();
    const end = async () => {
      let sum = 0n;
      for (const t of TABLES) {
        for (const o of await a.fetchTopicOffsets(`${prefix}.${schema}.${t}`)) sum += BigInt(o.high);
      }
      return sum;
    };
    let written = -1;
    try {
      const { base } = await waitFor(async () => ({ base: await end() }), 60_000, `the end offsets after the ${what}`);
      await waitFor(async () => (await end()) > base, 300_000, `a write after the ${what}`, { abort: failed });
      written = Date.now() - faultEnd;
    } finally {
      await a.disconnect().catch(() => {});
    }
    await waitFor(() => seen.some((s) => s.version > after), 300_000, `a change after the ${what} on the topic`, {
      abort: failed,
    });
    const first = seen.find((s) => s.version > after)!;
    return { written, read: first.at - faultEnd };
  };

  it(
    'loses nothing, misorders nothing and never fails a task across broker, registry and database faults',
    async () => {
      const avro = (k: string) =>
        `${k}=io.confluent.connect.avro.AvroConverter\n${k}.schema.registry.url=${registry.url}`;
      const workerProps = path.join(dir, 'worker.properties');
      await writeFile(
        workerProps,
        [
          `bootstrap.servers=${kafka.url}`,
          'listeners=http://127.0.0.1:0',
          `offset.storage.file.filename=${path.join(dir, 'offsets.json')}`,
          'offset.flush.interval.ms=500',
          'key.converter=org.apache.kafka.connect.json.JsonConverter',
          'key.converter.schemas.enable=false',
          avro('value.converter'),
        ].join('\n'),
      );
      const dbUrl = db.url;
      const topics = TABLES.map((t) => `${prefix}.${schema}.${t}`);
      const sourceProps = path.join(dir, 'erp.properties');
      await writeFile(
        sourceProps,
        [
          'name=erp',
          'connector.class=ErpSource',
          `connection.url=${dbUrl}`,
          `change.table=${schema}.change_log`,
          `topic.prefix=${prefix}`,
          `table.include.list=${schema}\\\\.t[0-9]`,
          'poll.interval.ms=100',
          'max.batch.size=200',
          'schema.refresh.interval.ms=1000',
        ].join('\n'),
      );
      const sinkProps = path.join(dir, 'sink.properties');
      await writeFile(
        sinkProps,
        [
          'name=sink',
          'connector.class=FileStreamSink',
          `topics=${topics.join(',')}`,
          `file=${path.join(dir, 'sink.txt')}`,
        ].join('\n'),
      );
      worker = await startWorkerProcess([workerProps, sourceProps, sinkProps]);
      poller = watchStatus();

      const client = createKafka({ brokers: kafka.url, clientId: 'fault-reader', logLevel: 'nothing' });
      consumer = createConsumer(client, { groupId: `fault-reader-${Date.now()}` });
      await consumer.connect();
      const writers = new Writers(dbUrl, schema);
      writers.start();
      await waitFor(() => topicsListed(client, topics), 120_000, 'the three topics');
      await consumer.subscribe({ topics, fromBeginning: true });
      // The reader itself may read a record twice (it rejoins its group after the broker restart): each topic
      // record counts once, by its offset; duplicates below are records written twice.
      const read = new Set<string>();
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          const at = `${topic}|${partition}|${message.offset}`;
          if (read.has(at)) return;
          read.add(at);
          const version = message.headers?.['erpstream.version'];
          if (version === undefined) return; // a tombstone: carries no version; its delete event does
          seen.push({
            topic,
            partition,
            offset: message.offset,
            key: (JSON.parse(message.key!.toString()) as { id: number }).id,
            version: BigInt(String(version)),
            value: message.value,
            at: Date.now(),
            phase,
          });
        },
      });
      await waitFor(() => seen.length > 50, 120_000, 'the stream under way');

      const recoveries: Record<string, Array<{ written: number; read: number }>> = {
        broker: [],
        registry: [],
        terminate: [],
        restart: [],
        outage: [],
      };
      for (let round = 0; round < ROUNDS; round++) {
        // ---- broker SIGKILL ----
        await sleep(3000);
        phase = 'broker';
        await kafka.kill();
        await sleep(DOWN_MS);
        await kafka.start();
        recoveries.broker!.push(await recovery('broker restart', Date.now()));

        // ---- registry outage with a schema change meanwhile ----
        await sleep(3000);
        phase = 'registry';
        await registry.kill();
        await admin.query(`ALTER TABLE ${schema}.t1 ADD COLUMN note_${round} text DEFAULT 'r${round}'`);
        await sleep(DOWN_MS);
        await registry.start();
        recoveries.registry!.push(await recovery('registry restart', Date.now()));

        // ---- pg_terminate_backend of every other session (the connector's included) ----
        await sleep(3000);
        phase = 'terminate';
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = $1',
          ['client backend'],
        );
        recoveries.terminate!.push(await recovery('pg_terminate_backend', Date.now()));

        // ---- PostgreSQL restart ----
        await sleep(3000);
        phase = 'restart';
        await admin.end().catch(() => {});
        await db.restart();
        const faultEnd = Date.now();
        admin = await adminClient(db.url);
        recoveries.restart!.push(await recovery('PostgreSQL restart', faultEnd));

        // ---- PostgreSQL down for the outage (stopped, then started: the source waits it out) ----
        await sleep(3000);
        phase = 'outage';
        await admin.end().catch(() => {});
        await db.kill();
        // Meanwhile a source task is restarted alone (a new task object starts without its database), then the
        // connector with its tasks (the connector's start lists tables: it cannot either).
        await sleep(DOWN_MS / 3);
        const task = await fetch(`${worker!.url}/connectors/erp/tasks/0/restart`, { method: 'POST' });
        expect(task.status).toBeLessThan(300);
        await sleep(DOWN_MS / 3);
        const restarted = await fetch(`${worker!.url}/connectors/erp/restart?includeTasks=true`, { method: 'POST' });
        expect(restarted.status).toBeLessThan(300);
        await sleep(DOWN_MS / 3);
        await db.start();
        const outageEnd = Date.now();
        admin = await adminClient(db.url);
        recoveries.outage!.push(await recovery('PostgreSQL outage', outageEnd));
      }
      await sleep(2000);
      await writers.stop();

      // ---- drain: every key's latest change reaches its topic ----
      const expected = await latestChanges(admin, schema, prefix);
      await drained(expected, seen);
      const topVersion = () => highestVersions(seen);
      polling = false;
      await poller;

      // ---- count against the database ----
      const top = topVersion();
      const lostKeys = [...expected].filter(([k, v]) => (top.get(k) ?? -1n) < v).map(([k]) => k);
      const byKeyVersion = new Map<string, number>();
      let duplicates = 0;
      const duplicatesByPhase: Record<string, number> = {};
      let outOfOrder = 0;
      const maxSoFar = new Map<string, bigint>();
      const firstCopy = new Map<string, Seen>();
      // What the copies are: the same bytes (a record written twice: a send retried after its write, allowed by
      // at-least-once) or another event the source built for the same change (the source's own behaviour, not a
      // fault's: seen without faults too).
      const duplicateKinds = { sameBytes: 0, otherBytes: 0, withinABatch: 0 };
      for (const s of seen) {
        // A tombstone follows its delete with the delete's version: not a second event.
        if (s.value === null) continue;
        const k = `${s.topic}|${s.key}`;
        const kv = `${k}|${s.version}`;
        const n = (byKeyVersion.get(kv) ?? 0) + 1;
        byKeyVersion.set(kv, n);
        if (n === 1) firstCopy.set(kv, s);
        if (n > 1) {
          duplicates++;
          duplicatesByPhase[s.phase] = (duplicatesByPhase[s.phase] ?? 0) + 1;
          const first = firstCopy.get(kv)!;
          if (first.value !== null && s.value !== null && first.value.equals(s.value)) duplicateKinds.sameBytes++;
          else duplicateKinds.otherBytes++;
          if (first.partition === s.partition && BigInt(s.offset) - BigInt(first.offset) <= 200n)
            duplicateKinds.withinABatch++;
        } else if ((maxSoFar.get(k) ?? -1n) > s.version) outOfOrder++;
        if ((maxSoFar.get(k) ?? -1n) < s.version) maxSoFar.set(k, s.version);
      }
      // The latest event of each key is the database's row (or its delete).
      const values = new AvroConverter();
      values.configure({ 'schema.registry.url': registry.url }, false);
      let stateMismatches = 0;
      const lastEvent = new Map<string, Seen>();
      for (const s of seen) {
        const k = `${s.topic}|${s.key}`;
        const prev = lastEvent.get(k);
        if (!prev || prev.version <= s.version) lastEvent.set(k, s);
      }
      for (const t of TABLES) {
        const rows = new Map(
          ((await admin.query(`SELECT id, val FROM ${schema}.${t}`)).rows as Array<{ id: number; val: number }>).map(
            (r) => [r.id, r.val],
          ),
        );
        const topic = `${prefix}.${schema}.${t}`;
        for (let key = 0; key < KEYS; key++) {
          const last = lastEvent.get(`${topic}|${key}`);
          const dbVal = rows.get(key);
          if (!last) {
            if (dbVal !== undefined) stateMismatches++;
            continue;
          }
          const env = (await values.toConnectData(topic, [], last.value)).value as Struct | null;
          const op = env?.get('op') as string | undefined;
          const after = env?.get('after') as Struct | null | undefined;
          const topicVal = op === 'd' || !after ? undefined : Number(after.get('val'));
          if (topicVal !== dbVal) stateMismatches++;
        }
      }
      const sinkLines = (await readFile(path.join(dir, 'sink.txt'), 'utf8').catch(() => '')).split('\n').length - 1;
      const report = {
        rounds: ROUNDS,
        downMs: DOWN_MS,
        commits: writers.commits,
        writerErrors: writers.errors,
        changes: Number(await maxSeq()),
        events: seen.length,
        lost: lostKeys.length,
        stateMismatches,
        duplicates,
        duplicatesByPhase,
        duplicateKinds,
        outOfOrder,
        failedStatuses: failures.length,
        waits: [...waits],
        sinkLines,
        recoveryMs: recoveries,
      };
      process.stdout.write(`fault-suite ${JSON.stringify(report)}\n`);
      process.stdout.write(
        `fault suite: ${report.changes} changes, ${report.events} events; lost ${report.lost}, state mismatches ${stateMismatches}, duplicates ${duplicates}, out of order ${outOfOrder}, FAILED ${failures.length}; recovery ms ${JSON.stringify(recoveries)}\n`,
      );
      expect(failures.slice(0, 5)).toEqual([]);
      expect(lostKeys.slice(0, 10)).toEqual([]);
      expect(stateMismatches).toBe(0);
      expect(outOfOrder).toBe(0);
      // The status said what the tasks waited for while the broker was gone.
      expect([...waits].some((w) => w.includes('the Kafka broker'))).toBe(true);
      // …and while PostgreSQL was stopped.
      expect([...waits]).toContain('erp: the source system');
      expect(sinkLines).toBeGreaterThan(0);
    },
    900_000 * ROUNDS,
  );
});

/**
 * The same broker SIGKILL with exactly-once on (a distributed worker, exactly.once.source.support=enabled, three
 * tasks): a transaction the outage breaks ends its task instance, not the task; the worker starts a new instance
 * once the broker is back, from the offsets of the committed transactions. Then PostgreSQL is stopped; meanwhile a
 * source task is restarted and a second worker joins (a rebalance moves tasks): new instances wait for the database.
 * Counted under read_committed against the database: 0 lost, 0 duplicated events, no FAILED (no manual restart).
 */
describe('fault suite: a broker SIGKILL and a database outage with exactly-once on', () => {
  let dir: string;
  let kafka: PrivateService;
  let db: Awaited<ReturnType<typeof privatePostgres>>;
  let admin: pg.Client;
  let worker: WorkerProcess | null = null;
  /** The worker that joins during the database outage. */
  let second: WorkerProcess | null = null;
  let consumer: Consumer | null = null;
  const schema = 'eos';
  const prefix = 'eosfault';
  const topics = TABLES.map((t) => `${prefix}.${schema}.${t}`);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-fault-eos-'));
    [kafka, db] = await Promise.all([privateKafka(dir), privatePostgres()]);
    admin = await capturedTables(db.url, schema);
  }, 300_000);

  afterAll(async () => {
    await consumer?.disconnect().catch(() => {});
    await endWorkerProcess(second);
    await endWorkerProcess(worker);
    await admin?.end().catch(() => {});
    await Promise.allSettled([kafka?.destroy(), db?.destroy()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('loses nothing, writes nothing twice across the outage (read_committed) and never fails a task', async () => {
    const props = path.join(dir, 'worker.properties');
    await writeFile(
      props,
      clusterProps(kafka.url, 'eos-fault', {
        'exactly.once.source.support': 'enabled',
        'offset.flush.interval.ms': '300',
      }),
    );
    worker = await startWorkerProcess([props]);
    const rest = workerRest(() => worker!);
    const config = {
      'connector.class': 'ErpSource',
      'connection.url': db.url,
      'change.table': `${schema}.change_log`,
      'topic.prefix': prefix,
      'table.include.list': `${schema}\\.t[0-9]`,
      'tasks.max': '3',
      'poll.interval.ms': '100',
      'max.batch.size': '200',
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable': 'false',
    };
    await createConnector(rest, 'erp', config);
    // A SequenceSource too: its offsets are exact (the next number), so any record written twice is the worker's.
    const seqTopic = `${prefix}.seq`;
    await createConnector(rest, 'seq', {
      'connector.class': 'erpstream.connectors.SequenceSourceConnector',
      'tasks.max': '2',
      topic: seqTopic,
      'records.per.second': '100',
    });

    const failures: string[] = [];
    const waits = new Set<string>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          const s = (await rest('GET', '/connectors/erp/status')).body as {
            connector: { state: string; trace?: string };
            tasks: Array<{ id: number; state: string; trace?: string; waiting?: { for: string } }>;
          };
          if (s.connector.state === 'FAILED') failures.push(`erp: ${s.connector.trace ?? ''}`);
          for (const t of s.tasks) {
            if (t.state === 'FAILED') failures.push(`erp-${t.id}: ${(t.trace ?? '').split('\n')[0]}`);
            if (t.waiting) waits.add(t.waiting.for);
          }
        } catch {
          // not there yet
        }
        await sleep(250);
      }
    })();
    const failed = () => (failures.length > 0 ? `a task went FAILED (a manual restart needed): ${failures[0]}` : null);

    const client = createKafka({ brokers: kafka.url, clientId: 'eos-fault-reader', logLevel: 'nothing' });
    const writers = new Writers(db.url, schema);
    writers.start();
    await waitFor(() => topicsListed(client, topics), 120_000, 'the three topics', { abort: failed });
    // read_committed (the default of createConsumer): only committed transactions count.
    consumer = createConsumer(client, { groupId: `eos-fault-reader-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics, seqTopic], fromBeginning: true });
    const read = new Set<string>();
    const sequence: string[] = [];
    const seen: Array<{ topic: string; key: number; version: bigint; eventId: string; at: number; offset: string }> =
      [];
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const at = `${topic}|${partition}|${message.offset}`;
        if (read.has(at)) return; // the reader's own re-read after it rejoins its group
        read.add(at);
        if (topic === seqTopic) {
          sequence.push(message.key!.toString());
          return;
        }
        // A tombstone follows its delete with the delete's headers (key, version, event id): not a second event.
        if (message.value === null) return;
        const version = message.headers?.['erpstream.version'];
        if (version === undefined) return;
        seen.push({
          topic,
          key: (JSON.parse(message.key!.toString()) as { id: number }).id,
          version: BigInt(String(version)),
          eventId: String(message.headers?.['erpstream.event.id'] ?? ''),
          offset: `${partition}@${message.offset}`,
          at: Date.now(),
        });
      },
    });
    await waitFor(() => seen.length > 50, 120_000, 'the stream under way', { abort: failed });

    // ---- broker SIGKILL, in the middle of transactions (200 changes/s, a transaction per poll) ----
    await sleep(2000);
    const killedAt = Date.now();
    await kafka.kill();
    await sleep(DOWN_MS);
    await kafka.start();
    const faultEnd = Date.now();
    const after = BigInt(
      (await admin.query(`SELECT coalesce(max(seq), 0) AS m FROM ${schema}.change_log`)).rows[0].m as string,
    );
    await waitFor(() => seen.some((s) => s.version > after), 300_000, 'a change after the broker restart', {
      abort: failed,
    });
    const recoveryMs = seen.find((s) => s.version > after)!.at - faultEnd;

    // ---- PostgreSQL stopped; meanwhile a source task is restarted, then a second worker joins and takes over part
    // of the work (new instances, and maybe the connector, start without their database: they wait, RUNNING, and
    // start once PostgreSQL is back; each new producer fences the old one's transactions) ----
    await sleep(2000);
    await admin.end().catch(() => {});
    await db.kill();
    await sleep(DOWN_MS / 3);
    let taskRestart = await rest('POST', '/connectors/erp/tasks/0/restart');
    for (let i = 0; i < 20 && taskRestart.status === 409; i++) {
      await sleep(500);
      taskRestart = await rest('POST', '/connectors/erp/tasks/0/restart');
    }
    expect(taskRestart.status).toBeLessThan(300);
    await sleep(DOWN_MS / 3);
    second = await startWorkerProcess([props]);
    await sleep(DOWN_MS / 3);
    await db.start();
    const dbOutageEnd = Date.now();
    admin = await adminClient(db.url);
    const afterDb = BigInt(
      (await admin.query(`SELECT coalesce(max(seq), 0) AS m FROM ${schema}.change_log`)).rows[0].m as string,
    );
    await waitFor(() => seen.some((s) => s.version > afterDb), 300_000, 'a change after the PostgreSQL outage', {
      abort: failed,
    });
    const dbRecoveryMs = seen.find((s) => s.version > afterDb)!.at - dbOutageEnd;
    // The second worker took over part of the work: tasks moved while the database was down.
    const workersRunningTasks = new Set<string>();
    for (const c of ['erp', 'seq']) {
      const st = (await rest('GET', `/connectors/${c}/status`)).body as { tasks: Array<{ worker_id: string }> };
      for (const t of st.tasks) workersRunningTasks.add(t.worker_id);
    }
    await sleep(2000);
    await writers.stop();

    // ---- drain, then count against the database ----
    const expected = await latestChanges(admin, schema, prefix);
    await drained(expected, seen, failed);
    const top = () => highestVersions(seen);
    polling = false;
    await poller;
    const t = top();
    const lost = [...expected].filter(([k, v]) => (t.get(k) ?? -1n) < v).map(([k]) => k);
    const firstOffset = new Map<string, string>();
    const events = new Map<string, number>();
    const duplicateTimes = { beforeKill: 0, firstCopies: [] as number[] };
    let replayed = 0;
    let duplicates = 0;
    const duplicatesAt: string[] = [];
    for (const s of seen) {
      const id = `${s.topic}|${s.key}|${s.eventId}|${s.version}`;
      if (events.has(id)) {
        duplicates++;
        if (duplicatesAt.length < 5)
          duplicatesAt.push(`${id} at ${s.offset} (first at ${firstOffset.get(id)}) ${new Date(s.at).toISOString()}`);
        if (s.at < killedAt) duplicateTimes.beforeKill++;
        // A copy of a record read before the kill: written again after the outage (a replay).
        if (events.get(id)! < killedAt && s.at >= killedAt) replayed++;
        duplicateTimes.firstCopies.push(events.get(id)! - killedAt);
      } else {
        events.set(id, s.at);
        firstOffset.set(id, s.offset);
      }
    }
    const sequenceDuplicates = sequence.length - new Set(sequence).size;
    const sequenceGaps = [0, 1].reduce((n, task) => {
      const seqs = new Set(sequence.filter((k) => k.startsWith(`${task}-`)).map((k) => Number(k.split('-')[1])));
      let gaps = 0;
      for (let i = 0; i <= Math.max(-1, ...seqs); i++) if (!seqs.has(i)) gaps++;
      return n + gaps;
    }, 0);
    const report = {
      downMs: DOWN_MS,
      commits: writers.commits,
      events: seen.length,
      lost: lost.length,
      duplicates,
      failedStatuses: failures.length,
      waits: [...waits],
      recoveryMs,
      dbRecoveryMs,
      workersRunningTasks: workersRunningTasks.size,
      duplicatesAt,
      duplicatesBeforeKill: duplicateTimes.beforeKill,
      replayed,
      sequence: sequence.length,
      sequenceDuplicates,
      sequenceGaps,
      firstCopiesMsFromKill: [Math.min(...duplicateTimes.firstCopies), Math.max(...duplicateTimes.firstCopies)],
    };
    process.stdout.write(`fault-suite-eos ${JSON.stringify(report)}\n`);
    expect(failures.slice(0, 5)).toEqual([]);
    expect(lost.slice(0, 10)).toEqual([]);
    // The restarted task's status said what it waited for while PostgreSQL was stopped; both workers run tasks.
    expect([...waits]).toContain('the source system');
    expect(workersRunningTasks.size).toBe(2);
    // Exactly-once across the outage: no event is written twice (nothing written before the kill is written again
    // after it), and the SequenceSource (exact offsets) has every number once.
    expect(replayed).toBe(0);
    expect(duplicatesAt).toEqual([]);
    expect({ sequenceDuplicates, sequenceGaps }).toEqual({ sequenceDuplicates: 0, sequenceGaps: 0 });
    expect(sequence.length).toBeGreaterThan(0);
  }, 600_000);
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Consumer, type Kafka, createConsumer, createKafka } from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type WorkerProcess, startWorkerProcess } from '../../../support/erpstream-cli.js';
import { waitFor } from '../../../support/worker.js';
import { CHANGE_TABLE, type DbFixture, type DbSession, mysqlFixture, pgFixture } from './harness.js';

/**
 * Issue 12, real crashes: a standalone worker *process* runs the ErpSource while writer sessions run a randomized
 * workload (short transactions of 1–3 changes, some held open past gap.timeout.ms, rollbacks, deletes and
 * re-inserts), and is SIGKILLed at random points — the first one early, possibly before any offset flush — then
 * started again from what it had stored. Checked on the topic, per key:
 * - every committed change is there: the highest version read is at least the key's last change sequence, and a
 *   consumer keeping the highest version (deletes included) ends with exactly the database's rows;
 * - nothing phantom: every streamed event's version is the sequence of a committed change of that key;
 * - order: within one worker run a key's versions strictly increase (an exact copy of the event before it aside:
 *   at-least-once); after a restart the replays of what the killed run had not committed come again, with versions
 *   not above what the topic already holds for the key (docs/erp-source.md, "Guarantees").
 *
 * ERPSTREAM_CRASH_KILLS (default 2) kills per database, ERPSTREAM_CRASH_MS (default 6000) the workload length.
 */
const KILLS = Math.max(1, Number(process.env.ERPSTREAM_CRASH_KILLS ?? 2));
const WORKLOAD_MS = Number(process.env.ERPSTREAM_CRASH_MS ?? 6_000);
const KEYS = 24;
/** Worker starts take seconds each on a loaded machine; the drain wait below must end before the test does. */
const TEST_TIMEOUT_MS = 150_000 + WORKLOAD_MS + KILLS * 30_000;
const WRITERS = 3;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Seen {
  key: number;
  version: bigint;
  eventId: string;
  op: string;
  snapshot: string;
  after: string | null;
  at: number;
}

/** Writer sessions, each owning the keys ≡ its number (mod WRITERS): no lock waits, commits out of sequence order. */
class Writers {
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  commits = 0;
  rollbacks = 0;
  errors: string[] = [];

  constructor(
    private readonly db: DbFixture,
    private readonly table: string,
  ) {}

  start(): void {
    for (let w = 0; w < WRITERS; w++) this.loops.push(this.loop(w));
  }

  private async loop(w: number): Promise<void> {
    const pg = this.db.dialect === 'postgresql';
    const s: DbSession = await this.db.session();
    if (!pg) await s.exec('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    try {
      while (!this.stopped) {
        try {
          await s.exec('BEGIN');
          const ops = 1 + Math.floor(Math.random() * 3);
          for (let i = 0; i < ops; i++) {
            const key = w + 1 + WRITERS * Math.floor(Math.random() * (KEYS / WRITERS));
            const v = Math.floor(Math.random() * 1_000_000);
            const r = Math.random();
            if (r < 0.2) await s.exec(`DELETE FROM ${this.table} WHERE id = ${key}`);
            else if (pg)
              await s.exec(
                `INSERT INTO ${this.table} (id, v) VALUES (${key}, ${v}) ON CONFLICT (id) DO UPDATE SET v = ${v}`,
              );
            else
              await s.exec(`INSERT INTO ${this.table} (id, v) VALUES (${key}, ${v}) ON DUPLICATE KEY UPDATE v = ${v}`);
            // Held open: other writers commit later-numbered changes meanwhile; now and then past gap.timeout.ms.
            const hold = Math.random();
            if (hold < 0.03) await sleep(800 + Math.random() * 700);
            else if (hold < 0.3) await sleep(Math.random() * 40);
          }
          if (Math.random() < 0.1) {
            await s.exec('ROLLBACK');
            this.rollbacks++;
          } else {
            await s.exec('COMMIT');
            this.commits++;
          }
        } catch (e) {
          this.errors.push((e as Error).message);
          await s.exec('ROLLBACK').catch(() => {});
        }
        await sleep(5 + Math.random() * 20);
      }
    } finally {
      await s.close();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

async function kill(w: WorkerProcess): Promise<void> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => w.proc.once('exit', () => r()));
  w.proc.kill('SIGKILL');
  await exited;
}

function defineCrashSuite(name: string, fixture: () => Promise<DbFixture>): void {
  describe(`ErpSource in a worker process SIGKILLed during a randomized workload on ${name}`, () => {
    let db: DbFixture | undefined;
    let kafka: Kafka | undefined;
    let consumer: Consumer | null = null;
    let dir = '';
    let topic = '';
    const workers: WorkerProcess[] = [];
    afterAll(async () => {
      for (const w of workers) await kill(w).catch(() => {});
      await consumer?.disconnect().catch(() => {});
      if (kafka && topic) {
        const admin = kafka.admin();
        await admin.connect();
        await admin.deleteTopics({ topics: [topic] }).catch(() => {});
        await admin.disconnect();
      }
      await db?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it(
      `every committed change, per-key order and only replays going back, across ${KILLS} SIGKILL(s)`,
      async () => {
        db = await fixture();
        const pg = db.dialect === 'postgresql';
        const table = pg ? `"${db.schema}"."item"` : `\`${db.schema}\`.\`item\``;
        await db.createCaptured('item', pg ? 'id integer PRIMARY KEY, v integer' : 'id int PRIMARY KEY, v int');
        for (let id = 1; id <= KEYS; id += 2) await db.exec(`INSERT INTO ${table} (id, v) VALUES (${id}, 0)`);

        const prefix = `erpc_${uniqueSuffix()}`;
        topic = `${prefix}.${db.schema}.item`;
        kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'erp-crash-it', logLevel: 'nothing' });
        const admin = kafka.admin();
        await admin.connect();
        await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
        await admin.disconnect();

        dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-it-erp-crash-'));
        const workerProps = path.join(dir, 'worker.properties');
        await writeFile(
          workerProps,
          [
            `bootstrap.servers=${requireEnv('KAFKA_BROKERS')}`,
            'listeners=http://127.0.0.1:0',
            `offset.storage.file.filename=${path.join(dir, 'offsets.json')}`,
            'offset.flush.interval.ms=700',
            'key.converter=org.apache.kafka.connect.json.JsonConverter',
            'key.converter.schemas.enable=false',
            'value.converter=org.apache.kafka.connect.json.JsonConverter',
            'value.converter.schemas.enable=false',
          ].join('\n'),
        );
        const connectorProps = path.join(dir, 'erp.properties');
        await writeFile(
          connectorProps,
          [
            'name=erp-crash',
            'connector.class=ErpSource',
            `connection.url=${db.url}`,
            `change.table=${db.schema}.${CHANGE_TABLE}`,
            `topic.prefix=${prefix}`,
            `table.include.list=${db.schema}\\\\.item`,
            'poll.interval.ms=50',
            'gap.timeout.ms=500',
            `max.batch.size=${[1, 7, 500][Math.floor(Math.random() * 3)]}`,
          ].join('\n'),
        );

        const seen: Seen[] = [];
        consumer = createConsumer(kafka, { groupId: `erp-crash-it-${uniqueSuffix()}` });
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            if (message.value === null) return; // tombstone
            const key = JSON.parse(String(message.key)) as { id: number };
            const value = JSON.parse(String(message.value)) as {
              op: string;
              after: { v: number } | null;
              source: { snapshot: string };
            };
            const header = (h: string) => String(message.headers?.[h] ?? '');
            seen.push({
              key: key.id,
              version: BigInt(header('erpstream.version')),
              eventId: header('erpstream.event.id'),
              op: value.op,
              snapshot: String(value.source.snapshot),
              after: value.after === null ? null : String(value.after.v),
              at: Number(message.timestamp),
            });
          },
        });

        // Runs of the worker: [start, end) in producer time; events are attributed to the run they were written in.
        const runs: Array<{ start: number; end: number }> = [];
        const startRun = async (args: string[]) => {
          runs.push({ start: Date.now(), end: Number.POSITIVE_INFINITY });
          workers.push(await startWorkerProcess([...args, '--standalone'], 90_000));
        };
        await startRun([workerProps, connectorProps]);
        const writers = new Writers(db, table);
        writers.start();
        const started = Date.now();
        for (let k = 0; k < KILLS; k++) {
          // The first kill early (maybe before the first offset flush), the others anywhere in the workload.
          await sleep(k === 0 ? 300 + Math.random() * 1_200 : Math.random() * (WORKLOAD_MS / KILLS));
          await kill(workers[workers.length - 1]!);
          runs[runs.length - 1]!.end = Date.now();
          await sleep(Math.random() * 500); // writes go on while no worker runs
          await startRun([workerProps]); // the connector comes back from the stored config and offsets
        }
        await sleep(Math.max(0, WORKLOAD_MS - (Date.now() - started)));
        await writers.stop();

        // The database's final rows and each key's committed change sequences.
        const rows = await db.exec(`SELECT id, v FROM ${table}`);
        const expected = new Map(rows.map((r) => [Number(r.id), String(r.v)]));
        const ct = pg ? `"${db.schema}"."${CHANGE_TABLE}"` : `\`${db.schema}\`.\`${CHANGE_TABLE}\``;
        const changes = await db.exec(`SELECT record_id, ${pg ? 'seq::text' : 'CAST(seq AS CHAR)'} AS seq FROM ${ct}`);
        const committed = new Map<number, Set<bigint>>();
        for (const c of changes) {
          const key = Number(c.record_id);
          if (!committed.has(key)) committed.set(key, new Set());
          committed.get(key)!.add(BigInt(String(c.seq)));
        }
        const highest = () => {
          const top = new Map<number, Seen>();
          for (const s of seen) if ((top.get(s.key)?.version ?? -1n) < s.version) top.set(s.key, s);
          return top;
        };
        const state = () =>
          new Map(
            [...highest()].filter(([, s]) => s.op !== 'd' && s.after !== null).map(([k, s]) => [k, s.after!] as const),
          );
        await waitFor(
          () => JSON.stringify([...state()].sort()) === JSON.stringify([...expected].sort()),
          60_000,
          "the topic's highest versions to give the database's rows",
        ).catch(() => {});
        await sleep(1_000); // anything still in flight

        const label = `${name}, ${runs.length} runs, ${seen.length} events, ${writers.commits} commits`;
        expect(Object.fromEntries(state()), `${label}: highest version wins = the database`).toEqual(
          Object.fromEntries(expected),
        );
        const top = highest();
        const problems: string[] = [];
        for (const [key, seqs] of committed) {
          const last = [...seqs].reduce((m, s) => (s > m ? s : m));
          const got = top.get(key)?.version ?? -1n;
          if (got < last) problems.push(`key ${key}: last change ${last} never reached the topic (highest ${got})`);
        }
        const runOf = (at: number) => runs.findIndex((r) => at >= r.start && at < r.end);
        const lastInRun = new Map<string, Seen>();
        const maxSoFar = new Map<number, bigint>();
        let replays = 0;
        for (const s of seen) {
          const what = `key ${s.key} ${s.op}@${s.version}`;
          if (s.snapshot === 'false' && !committed.get(s.key)?.has(s.version))
            problems.push(`${what}: not a committed change of the key (phantom)`);
          const run = runOf(s.at);
          const prev = lastInRun.get(`${run}:${s.key}`);
          if (prev && s.version <= prev.version && !(s.eventId === prev.eventId && s.version === prev.version))
            problems.push(`${what} after ${prev.op}@${prev.version} in run ${run + 1}`);
          lastInRun.set(`${run}:${s.key}`, s);
          const max = maxSoFar.get(s.key) ?? -1n;
          if (s.version <= max) replays++;
          else maxSoFar.set(s.key, s.version);
        }
        expect(problems, label).toEqual([]);
        console.log(
          `${label}: ${replays} replayed event(s) at or below a version already on the topic, ` +
            `${writers.rollbacks} rollbacks, ${writers.errors.length} writer errors`,
        );
      },
      TEST_TIMEOUT_MS,
    );
  });
}

defineCrashSuite('PostgreSQL', () => pgFixture());
defineCrashSuite('MariaDB', () => mysqlFixture());

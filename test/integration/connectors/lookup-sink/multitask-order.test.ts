import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import type { SinkRecord, SinkTaskContext, TopicPartition } from '../../../../runtime/api/index.js';
import { KafkaPluginAccess, createKafka } from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { sinkRecord, testContext } from './harness.js';
import { seededRandom } from '../../../support/seeded-random.js';

// Several tasks of ONE documents connector (tasks.max 2..4) with a Kafka or an HTTP destination, which have no
// version guard of their own (whatever order the sink sends in is what the customer gets), or jdbc tables (one per
// customer: only the final state and the ledger's targets can be checked there). Documents live on 4 input
// partitions, their registrations (the dependency topic that re-decides a document at once) on 3 others, so a
// registration is usually handled by another task than the document's own records. Documents also wait for their
// person (a ledger dependency): persons arrive late, and a person's delivery wakes the parked documents in every
// task of the process at once; parked records are also re-checked on a short backoff by whichever task finds them
// due. The origin changes while the tasks decide; partitions move between tasks (close, then the new owner resumes
// from the committed offset) and tasks restart, all at random. The destination (a real Kafka topic per customer, or
// a real HTTP receiver on 127.0.0.1) is read back in arrival order and must show, per customer and document:
// versions and row contents that never go back, no version delivered twice in a row, and at the end exactly the
// documents registered to that customer at their latest version (nothing lost).
//
// The ledger (and so the locks) is on PostgreSQL, and for the Kafka destination also on MariaDB. Without the entity
// locks (entity-locks.ts) every seed fails: versions went back.
//
// ERPSTREAM_SINK_RACE_RUNS: seeds per destination type (default 3; a third of it on MariaDB); ERPSTREAM_SEED_BASE
// moves them (a failure names its seed). ERPSTREAM_SINK_RACE_STEPS: steps per seed (default 40).
const RUNS = Number(process.env.ERPSTREAM_SINK_RACE_RUNS ?? 3);
const SEED_BASE = Number(process.env.ERPSTREAM_SEED_BASE ?? 1);
const STEPS = Number(process.env.ERPSTREAM_SINK_RACE_STEPS ?? 40);
const DOCS = 10;
const PERSONS = 4;
const DOMAINS = ['c0', 'c1', 'c2'];
const DOC_PARTITIONS = 4;
const REG_PARTITIONS = 3;

const pgUrl = requireEnv('PG_URL');
const sfx = uniqueSuffix();
const schema = `ls_mt_${sfx}`;
const kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'lookup-sink-mt', logLevel: 'nothing' });
const access = new KafkaPluginAccess(kafka, { clientId: 'lookup-sink-mt' });
let db: pg.Client;

const rng = seededRandom;

async function sql(text: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  let n = 0;
  return (
    await db.query(
      text.replace(/\?/g, () => `$${++n}`),
      params,
    )
  ).rows as Array<Record<string, unknown>>;
}

/** One thing a customer received for a document, in arrival order: a row (with its rev) or a withdrawal. */
interface Received {
  version: bigint;
  rev: bigint | null;
}
/** HTTP receiver: `${path}|${id}` → what arrived, in order. */
const httpReceived = new Map<string, Received[]>();
let server: Server;
let port = 0;

beforeAll(async () => {
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      // A little jitter in the answer: requests of two tasks overlap as they would over a network.
      setTimeout(
        () => {
          const k = `${req.url}|${String(req.headers['x-erpstream-id'])}`;
          const list = httpReceived.get(k) ?? [];
          const version = BigInt(String(req.headers['x-erpstream-version']));
          list.push({
            version,
            rev: req.method === 'POST' ? BigInt(String((JSON.parse(body) as { rev: string | number }).rev)) : null,
          });
          httpReceived.set(k, list);
          res.writeHead(200).end('{}');
        },
        Math.floor(Math.random() * 4),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await db.query(`DROP SCHEMA ${schema} CASCADE`);
  await db.end();
});

interface LogEntry {
  key: unknown;
  value: unknown;
  version: bigint | null;
}

/** A simulated input partition: its records, what was committed and where its owner reads next. */
interface Partition {
  readonly topic: string;
  readonly partition: number;
  readonly log: LogEntry[];
  committed: number;
  position: number;
  owner: number;
}

interface TaskSlot {
  task: LookupSinkTask;
  readonly id: number;
  assigned: () => TopicPartition[];
}

/** MariaDB ledger tables made by the runs (the locks then are GET_LOCK), dropped at the end. */
const mysqlTables: string[] = [];
afterAll(async () => {
  if (mysqlTables.length === 0) return;
  const c = await mysql.createConnection({ uri: requireEnv('MYSQL_URL') });
  for (const t of mysqlTables) await c.query(`DROP TABLE IF EXISTS ${t}`);
  await c.end();
});

for (const [kind, ledgerDb] of [
  ['kafka', 'PostgreSQL'],
  ['http', 'PostgreSQL'],
  ['kafka', 'MariaDB'],
  ['jdbc', 'PostgreSQL'],
] as const) {
  describe(`LookupSink tasks.max>1, ${kind} destination, ${ledgerDb} ledger: versions never go back per customer and document`, () => {
    // The MariaDB ledger (GET_LOCK) runs one seed by default; the knob scales it like the others.
    const runs = ledgerDb === 'MariaDB' ? Math.max(1, Math.ceil(RUNS / 3)) : RUNS;
    for (let seed = SEED_BASE; seed < SEED_BASE + runs; seed++) {
      it(`seed ${seed}`, async () => {
        const rand = rng(seed * 7919 + (kind === 'kafka' ? 1 : 2) + (ledgerDb === 'MariaDB' ? 3 : 0));
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
        const p = `${schema}.s${seed}_${kind}_${ledgerDb === 'MariaDB' ? 'my' : 'pg'}`;
        const t = { doc: `${p}_doc_in`, reg: `${p}_reg_in`, person: `${p}_person_in` };
        const out = `${schema}_s${seed}_${kind}_${ledgerDb === 'MariaDB' ? 'my' : 'pg'}`;
        const ledger: Record<string, string> =
          ledgerDb === 'MariaDB'
            ? {
                'ledger.connection.url': requireEnv('MYSQL_URL'),
                'ledger.table': `${out}_ledger`,
                'park.table': `${out}_parked`,
              }
            : { 'ledger.table': `${p}_ledger`, 'park.table': `${p}_parked` };
        if (ledgerDb === 'MariaDB')
          mysqlTables.push(`${out}_ledger`, `${out}_parked`, `${out}_redelivery`, `${out}_redelivery_requests`);
        await sql(`CREATE TABLE ${p}_doc (document_id int PRIMARY KEY, person_id int NOT NULL, rev bigint NOT NULL)`);
        await sql(
          `CREATE TABLE ${p}_reg (document_id int NOT NULL, domain varchar(10) NOT NULL, PRIMARY KEY (document_id, domain))`,
        );
        await sql(`CREATE TABLE ${p}_person (person_id int PRIMARY KEY, rev bigint NOT NULL)`);
        if (kind === 'jdbc') {
          // One table per customer and one for persons: the final state is what a jdbc customer sees.
          for (const d of DOMAINS) {
            await sql(
              `CREATE TABLE ${p}_out_${d} (document_id int PRIMARY KEY, person_id int, rev bigint, domain varchar(10), erpstream_version numeric(20,0))`,
            );
          }
          await sql(
            `CREATE TABLE ${p}_out_persons (person_id int PRIMARY KEY, rev bigint, erpstream_version numeric(20,0))`,
          );
        }
        const common = {
          'lookup.connection.url': pgUrl,
          'lookup.batch.size': '5',
          ...ledger,
          'redelivery.table': `${ledgerDb === 'MariaDB' ? out : p}_redelivery`,
          'park.check.interval.ms': '15',
          'park.retry.initial.ms': '5',
          'park.retry.max.ms': '40',
          'park.max.duration.ms': '3600000',
        };
        const tasksMax = 2 + Math.floor(rand() * 3);
        const docProps: Record<string, string> = {
          ...common,
          'tasks.max': String(tasksMax),
          'lookup.query':
            `SELECT d.document_id, d.person_id, d.rev, r.domain FROM ${p}_doc d LEFT JOIN ${p}_reg r ` +
            `ON r.document_id = d.document_id WHERE d.document_id IN (:ids)`,
          'lookup.key.columns': 'document_id',
          'entity.name': 'document',
          dependencies: 'owner,registered',
          'dependencies.owner.type': 'ledger',
          'dependencies.owner.entity': 'person',
          'dependencies.owner.id.field': 'person_id',
          'dependencies.registered.type': 'field',
          'dependencies.registered.field': 'domain',
          'dependencies.registered.topic': t.reg,
          'dependencies.registered.topic.id.field': 'document_id',
          'destination.name': `${p}-dest`,
          ...(kind === 'jdbc'
            ? { 'destination.type': 'jdbc', 'destination.table': `${p}_out_\${domain}` }
            : kind === 'kafka'
              ? { 'destination.type': 'kafka', 'destination.topic': `${out}_\${domain}` }
              : {
                  'destination.type': 'http',
                  'destination.url': `http://127.0.0.1:${port}/${out}/\${domain}`,
                  'destination.http.max.in.flight': '3',
                }),
        };
        const personProps: Record<string, string> = {
          ...common,
          'lookup.table': `${p}_person`,
          'lookup.key.columns': 'person_id',
          'entity.name': 'person',
          'destination.name': `${p}-dest`,
          ...(kind === 'jdbc'
            ? { 'destination.type': 'jdbc', 'destination.table': `${p}_out_persons` }
            : kind === 'kafka'
              ? { 'destination.type': 'kafka', 'destination.topic': `${out}_persons` }
              : { 'destination.type': 'http', 'destination.url': `http://127.0.0.1:${port}/${out}/persons` }),
        };

        const dlq: string[] = [];
        const partitions: Partition[] = [
          ...Array.from({ length: DOC_PARTITIONS }, (_, i) => ({ topic: t.doc, partition: i })),
          ...Array.from({ length: REG_PARTITIONS }, (_, i) => ({ topic: t.reg, partition: i })),
        ].map((tp, i) => ({ ...tp, log: [], committed: 0, position: 0, owner: i % tasksMax }));
        const personLog: LogEntry[] = [];
        let personFed = 0;
        const partitionOf = (topic: string, n: number) =>
          partitions.find((x) => x.topic === topic && x.partition === n)!;

        const contextFor = (id: number, name: string): SinkTaskContext => ({
          ...testContext({ kafka: access }),
          taskId: id,
          connectorName: name,
          assignment: () =>
            partitions.filter((x) => x.owner === id).map((x) => ({ topic: x.topic, partition: x.partition })),
          errantRecordReporter: {
            async report(record, error) {
              dlq.push(`${name} ${String(record.key)}: ${error.message}`);
            },
          },
        });
        const startTask = async (id: number): Promise<TaskSlot> => {
          const task = new LookupSinkTask();
          const ctx = contextFor(id, `${p}-docs`);
          task.initialize(ctx);
          await task.start(docProps);
          return { task, id, assigned: ctx.assignment };
        };
        const slots: TaskSlot[] = [];
        for (let i = 0; i < tasksMax; i++) slots.push(await startTask(i));
        const personTask = new LookupSinkTask();
        personTask.initialize(contextFor(0, `${p}-persons`));
        await personTask.start(personProps);

        // The origin, as the test knows it.
        let seq = 100n;
        const docs = new Map<number, bigint>();
        /** Registrations as the origin holds them (a document may be registered before it exists). */
        const regs = new Map<number, Set<string>>();
        const persons = new Set<number>();
        const append = (topic: string, n: number, e: LogEntry) => partitionOf(topic, n).log.push(e);

        async function changeDoc(id: number): Promise<void> {
          const rev = ++seq;
          const person = id % PERSONS;
          await sql(
            `INSERT INTO ${p}_doc (document_id, person_id, rev) VALUES (?, ?, ?) ` +
              `ON CONFLICT (document_id) DO UPDATE SET rev = EXCLUDED.rev`,
            [id, person, rev.toString()],
          );
          docs.set(id, rev);
          append(t.doc, id % DOC_PARTITIONS, { key: id, value: { op: 'u' }, version: rev });
        }
        async function register(id: number, domain: string, on: boolean): Promise<void> {
          const mine = regs.get(id) ?? new Set<string>();
          regs.set(id, mine);
          if (on) {
            await sql(`INSERT INTO ${p}_reg (document_id, domain) VALUES (?, ?) ON CONFLICT DO NOTHING`, [id, domain]);
            mine.add(domain);
          } else {
            await sql(`DELETE FROM ${p}_reg WHERE document_id = ? AND domain = ?`, [id, domain]);
            mine.delete(domain);
          }
          const row = { document_id: id, domain };
          append(t.reg, (id * 7 + domain.charCodeAt(1)) % REG_PARTITIONS, {
            key: row,
            value: on ? { op: 'c', after: row } : { op: 'd', before: row, after: null },
            version: ++seq,
          });
        }
        async function addPerson(id: number): Promise<void> {
          if (persons.has(id)) return;
          const rev = ++seq;
          await sql(`INSERT INTO ${p}_person (person_id, rev) VALUES (?, ?)`, [id, rev.toString()]);
          persons.add(id);
          personLog.push({ key: id, value: { op: 'c' }, version: rev });
        }
        async function mutate(): Promise<void> {
          const r = rand();
          const id = Math.floor(rand() * DOCS);
          if (r < 0.5) await changeDoc(id);
          else if (r < 0.85) await register(id, pick(DOMAINS), rand() < 0.7);
          else if (r < 0.95) await addPerson(Math.floor(rand() * PERSONS));
          else await changeDoc(id);
        }

        const toRecord = (x: Partition, offset: number): SinkRecord => {
          const e = x.log[offset]!;
          return sinkRecord({
            topic: x.topic,
            partition: x.partition,
            offset: BigInt(offset),
            key: e.key,
            value: e.value,
            version: e.version,
          });
        };
        /** The owner takes the next few records of one of its partitions, as a consumer poll would hand them. */
        async function feed(slot: TaskSlot, max: number): Promise<void> {
          const mine = partitions.filter((x) => x.owner === slot.id && x.position < x.log.length);
          if (mine.length === 0) return;
          const x = pick(mine);
          const from = x.position;
          const to = Math.min(x.log.length, from + 1 + Math.floor(rand() * max));
          x.position = to;
          const records: SinkRecord[] = [];
          for (let o = from; o < to; o++) records.push(toRecord(x, o));
          await slot.task.put(records);
        }
        async function feedPersons(): Promise<void> {
          if (personFed >= personLog.length) return;
          const records = personLog.slice(personFed).map((e, i) =>
            sinkRecord({
              topic: t.person,
              offset: BigInt(personFed + i),
              key: e.key,
              value: e.value,
              version: e.version,
            }),
          );
          personFed = personLog.length;
          await personTask.put(records);
        }
        /** What the worker does on its commit interval: the offsets each task vouches for become committed. */
        async function commit(slot: TaskSlot): Promise<void> {
          const current = new Map<TopicPartition, bigint>();
          for (const x of partitions.filter((y) => y.owner === slot.id)) {
            current.set({ topic: x.topic, partition: x.partition }, BigInt(x.position));
          }
          const done = await slot.task.preCommit(current);
          for (const [tp, o] of done) {
            const x = partitionOf(tp.topic, tp.partition);
            if (x.owner === slot.id && Number(o) > x.committed) x.committed = Number(o);
          }
        }
        /** A rebalance moves one partition: the old owner commits and closes it, the new one resumes at the commit. */
        async function move(): Promise<void> {
          const x = pick(partitions);
          const to = pick(slots.filter((s) => s.id !== x.owner));
          const from = slots[x.owner]!;
          await commit(from);
          await from.task.close([{ topic: x.topic, partition: x.partition }]);
          x.owner = to.id;
          x.position = x.committed;
        }
        /** A task restart: stopped (what it finished is committed), a new instance resumes at the commits. */
        async function restart(): Promise<void> {
          const s = pick(slots);
          await commit(s);
          await s.task.stop();
          for (const x of partitions.filter((y) => y.owner === s.id)) x.position = x.committed;
          slots[s.id] = await startTask(s.id);
        }

        try {
          for (let step = 0; step < STEPS; step++) {
            const n = 1 + Math.floor(rand() * 4);
            for (let i = 0; i < n; i++) await mutate();
            // Every task works at once, with the origin changing under them and re-checks running on their timers.
            const work: Array<Promise<unknown>> = slots.map((s) => feed(s, 6));
            work.push(feedPersons());
            work.push(
              (async () => {
                await new Promise((r) => setTimeout(r, Math.floor(rand() * 6)));
                await mutate();
              })(),
            );
            if (rand() < 0.3) work.push(pick(slots).task.checkParked());
            await Promise.all(work);
            if (rand() < 0.5) for (const s of slots) await commit(s);
            if (rand() < 0.12) await move();
            if (rand() < 0.06) await restart();
          }
          // The end: every person arrives and everything is consumed; parked documents are released.
          for (let i = 0; i < PERSONS; i++) await addPerson(i);
          for (let round = 0; round < 200; round++) {
            await feedPersons();
            await Promise.all(slots.map((s) => feed(s, 20)));
            if (partitions.every((x) => x.position >= x.log.length)) break;
          }
          const expected = (id: number, domain: string) => {
            const rev = docs.get(id);
            return rev !== undefined && regs.get(id)?.has(domain) === true ? rev : null;
          };
          // Quiet: parked records are re-checked within park.retry.max.ms; wait until every customer holds the
          // origin's state (or give up and let the assertions below say what is missing).
          const deadline = Date.now() + 20_000;
          for (;;) {
            await Promise.all(slots.map(async (s) => s.task.checkParked()));
            await Promise.all(slots.map(async (s) => s.task.flush()));
            await personTask.flush();
            const received = await readReceived();
            let missing = 0;
            for (let id = 0; id < DOCS; id++) {
              for (const domain of DOMAINS) {
                const want = expected(id, domain);
                const got = received.get(`${domain}|${id}`)?.at(-1);
                if (want === null ? got !== undefined && got.rev !== null : got?.rev !== want) missing++;
              }
            }
            if (missing === 0 || Date.now() > deadline) break;
            await new Promise((r) => setTimeout(r, 100));
          }
        } finally {
          for (const s of slots) await s.task.stop();
          await personTask.stop();
        }

        /** Per `${domain}|${id}`: what that customer received for that document, in arrival order. */
        async function readReceived(): Promise<Map<string, Received[]>> {
          const got = new Map<string, Received[]>();
          for (const domain of DOMAINS) {
            if (kind === 'jdbc') {
              // A table holds only the last state: one entry per document.
              for (const r of await sql(`SELECT document_id, rev, erpstream_version FROM ${p}_out_${domain}`)) {
                got.set(`${domain}|${String(r.document_id)}`, [
                  { version: BigInt(String(r.erpstream_version)), rev: BigInt(String(r.rev)) },
                ]);
              }
              continue;
            }
            if (kind === 'http') {
              for (let id = 0; id < DOCS; id++) {
                const list = httpReceived.get(`/${out}/${domain}|${id}`);
                if (list) got.set(`${domain}|${id}`, [...list]);
              }
              continue;
            }
            const topic = `${out}_${domain}`;
            if ((await access.existingTopics([topic])).length === 0) continue;
            await access.readAll(topic, (key, value, _partition, meta) => {
              const k = `${domain}|${key!.toString()}`;
              const list = got.get(k) ?? [];
              list.push({
                version: BigInt(meta.headers['erpstream.version']!.toString()),
                rev: value === null ? null : BigInt(String((JSON.parse(value.toString()) as { rev: unknown }).rev)),
              });
              got.set(k, list);
            });
          }
          return got;
        }

        const received = await readReceived();
        const problems: string[] = [];
        for (const [k, list] of received) {
          let last: Received | null = null;
          let lastRev = -1n;
          for (const r of list) {
            if (last !== null && r.version < last.version) {
              problems.push(`${k}: version ${last.version} then ${r.version} (${fmt(list)})`);
            }
            if (r.rev !== null && r.rev < lastRev)
              problems.push(`${k}: row rev ${lastRev} then ${r.rev} (${fmt(list)})`);
            if (last !== null && last.rev !== null && r.rev !== null && r.version === last.version) {
              problems.push(`${k}: version ${r.version} delivered twice in a row (${fmt(list)})`);
            }
            if (r.rev !== null) lastRev = r.rev;
            last = r;
          }
        }
        for (let id = 0; id < DOCS; id++) {
          for (const domain of DOMAINS) {
            const rev = docs.get(id);
            const want = rev !== undefined && regs.get(id)?.has(domain) === true ? rev : null;
            const list = received.get(`${domain}|${id}`) ?? [];
            const got = list.at(-1);
            if (want !== null && got?.rev !== want) {
              problems.push(`${domain}|${id}: holds ${got ? (got.rev ?? 'withdrawn') : 'nothing'}, origin rev ${want}`);
            }
            if (want === null && got !== undefined && got.rev !== null) {
              problems.push(`${domain}|${id}: holds rev ${got.rev}, but it is not registered there`);
            }
          }
        }
        if (kind === 'jdbc') {
          // The ledger never claims less than the tables hold: a table it does not list would keep the document
          // when its registration goes (nothing would withdraw it).
          for (const r of await sql(`SELECT entity_id, targets FROM ${p}_ledger WHERE entity = 'document'`)) {
            const listed = new Set((JSON.parse(String(r.targets ?? '[]')) as string[][]).map((x) => x[0]));
            for (const domain of DOMAINS) {
              const holds = received.get(`${domain}|${String(r.entity_id)}`) !== undefined;
              if (holds && !listed.has(`${p}_out_${domain}`)) {
                problems.push(`${domain}|${String(r.entity_id)}: the table holds it, the ledger does not list it`);
              }
            }
          }
        }
        expect({ seed, tasksMax, problems: [...new Set(problems)].slice(0, 20), dlq }).toEqual({
          seed,
          tasksMax,
          problems: [],
          dlq: [],
        });
      }, 120_000);
    }
  });
}

function fmt(list: readonly Received[]): string {
  return list.map((r) => `${r.version}${r.rev === null ? '-' : `:${r.rev}`}`).join(' ');
}

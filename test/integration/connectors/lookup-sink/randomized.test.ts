import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaPluginAccess, createKafka } from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import type { LogEntry } from './randomized-child.js';
import { seededRandom } from '../../../support/seeded-random.js';

// Randomized runs of the per-customer job on real databases, Kafka and an HTTP receiver, with a worker that is
// SIGKILLed at random moments. Documents are created, changed, deleted and re-created, registered to 0–3 of 4
// customers at random moments (before the document, between changes, after the last, never) and unregistered;
// persons arrive late or never, their phones before them; poison ids are mixed in. The log of change records is
// fed to the worker in random batches; a batch counts as committed only when the worker finished it (a kill
// before that replays it). At the end, per database, customer and destination type (kafka, jdbc, http):
// delivered set = registered set at the origin's latest versions (nothing for a customer it is not registered
// to), every removed registration withdrawn, no version backwards, poison ids in the DLQ and nothing else there,
// phones only where their person arrived.
//
// ERPSTREAM_SEEDS: seeds per database (default 10, i.e. 20 in all, under a minute; 100 gives 200), run in chunks
// of 10 per worker. ERPSTREAM_SEED_BASE moves the seeds (a failure names the seed range to rerun).
const SEEDS = Number(process.env.ERPSTREAM_SEEDS ?? 10);
const SEED_BASE = Number(process.env.ERPSTREAM_SEED_BASE ?? 1);
const CHUNK = 10;
const CUSTOMERS = ['c0', 'c1', 'c2', 'c3'];
const sfx = uniqueSuffix();
const kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'lookup-sink-rnd-t', logLevel: 'nothing' });
const access = new KafkaPluginAccess(kafka, { clientId: 'lookup-sink-rnd-t' });

const rng = seededRandom;

interface Db {
  readonly kind: 'pg' | 'mysql';
  readonly url: string;
  exec(sql: string, params?: unknown[]): Promise<void>;
  rows(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

async function openDb(kind: 'pg' | 'mysql'): Promise<Db> {
  if (kind === 'pg') {
    const c = new pg.Client({ connectionString: requireEnv('PG_URL') });
    await c.connect();
    const q = (sql: string, params: unknown[] = []) => {
      let n = 0;
      return c.query(
        sql.replace(/\?/g, () => `$${++n}`),
        params,
      );
    };
    return {
      kind,
      url: requireEnv('PG_URL'),
      exec: async (sql, params) => void (await q(sql, params)),
      rows: async (sql, params) => (await q(sql, params)).rows as Array<Record<string, unknown>>,
      close: () => c.end(),
    };
  }
  const c = await mysql.createConnection({
    uri: requireEnv('MYSQL_URL'),
    bigNumberStrings: true,
    supportBigNumbers: true,
  });
  return {
    kind,
    url: requireEnv('MYSQL_URL'),
    exec: async (sql, params = []) => void (await c.query(sql, params)),
    rows: async (sql, params = []) => (await c.query(sql, params))[0] as Array<Record<string, unknown>>,
    close: () => c.end(),
  };
}

/** What the HTTP receiver got, per path and id, in order. */
interface HttpEvent {
  method: string;
  version: bigint;
  row: Record<string, unknown> | null;
}
const httpEvents = new Map<string, HttpEvent[]>();
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const id = String(req.headers['x-erpstream-id']);
      const k = `${req.url}|${id}`;
      const list = httpEvents.get(k) ?? [];
      list.push({
        method: req.method!,
        version: BigInt(String(req.headers['x-erpstream-version'])),
        row: req.method === 'POST' ? (JSON.parse(body) as Record<string, unknown>) : null,
      });
      httpEvents.set(k, list);
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

/** One child process and the answers it still owes (each waits for the next line that is not a DLQ report). */
interface Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly waiters: Array<(msg: Record<string, unknown> | null) => void>;
}

/**
 * The worker process: batches in, "done" out; killed at random. Each child answers only its own waiters, and a
 * child is forgotten the moment it is killed: a "done" it wrote just before the kill (read after its exit) must not
 * answer the next child's "ready", and the next batch must not be written to its closed stdin (EPIPE).
 */
class Worker {
  private child: Child | null = null;
  readonly dlq: Array<{ task: string; key: unknown; message: string }> = [];
  /** Exits nobody asked for: a task failed (a batch that fails again and again would never finish). */
  readonly failures: string[] = [];
  kills = 0;

  constructor(private readonly args: string) {}

  private async start(): Promise<Child> {
    const script = fileURLToPath(new URL('./randomized-child.ts', import.meta.url));
    const proc = spawn(process.execPath, ['--import', 'tsx', script, this.args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const child: Child = { proc, waiters: [] };
    this.child = child;
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    // A write racing with a kill fails with EPIPE; the child's close answers its waiter (null: killed).
    proc.stdin.on('error', () => {});
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      // A DLQ report counts whenever it was made, even by a child killed right after.
      if (msg.dlq) this.dlq.push(msg.dlq as never);
      else child.waiters.shift()?.(msg);
    });
    // 'close', not 'exit': every line the child wrote has been read by then, so a batch it finished counts as done.
    proc.once('close', (code, signal) => {
      if (this.child === child) this.child = null;
      if (signal !== 'SIGKILL') this.failures.push(`worker exited ${code}: ${err.split('\n').slice(-12).join('\n')}`);
      for (const w of child.waiters.splice(0)) w(null);
    });
    const ready = await next(child);
    if (!ready?.ready) throw new Error(`worker did not start: ${err}`);
    return child;
  }

  /** Sends a command; with killAfterMs, SIGKILLs the worker after that long. Null when it died first. */
  async send(cmd: unknown, killAfterMs: number | null = null): Promise<Record<string, unknown> | null> {
    const child = this.child ?? (await this.start());
    const answer = next(child);
    child.proc.stdin.write(`${JSON.stringify(cmd)}\n`);
    let timer: NodeJS.Timeout | undefined;
    if (killAfterMs !== null) {
      timer = setTimeout(() => {
        this.kills++;
        if (this.child === child) this.child = null;
        child.proc.kill('SIGKILL');
      }, killAfterMs);
    }
    // An answer that arrives is the batch finished (a kill right after it changes nothing); null: killed first.
    const msg = await answer;
    clearTimeout(timer);
    return msg;
  }

  stop(): void {
    this.child?.proc.kill('SIGKILL');
  }
}

function next(child: Child): Promise<Record<string, unknown> | null> {
  return new Promise((r) => child.waiters.push(r));
}

interface DocState {
  exists: boolean;
  title: string;
  rev: bigint;
  regs: Set<string>;
}

for (const kind of ['pg', 'mysql'] as const) {
  describe(`LookupSink randomized (${kind === 'pg' ? 'PostgreSQL' : 'MariaDB'}, Kafka, jdbc, http, SIGKILLs)`, () => {
    const p = `rnd_${sfx}_${kind}`;
    let db: Db;
    const T = { doc: `${p}.doc`, reg: `${p}.reg`, person: `${p}.person`, phone: `${p}.phone` };

    beforeAll(async () => {
      db = await openDb(kind);
      const num = kind === 'pg' ? 'numeric(20,0)' : 'decimal(20,0)';
      await db.exec(
        `CREATE TABLE ${p}_doc (document_id int PRIMARY KEY, title varchar(100) NOT NULL, rev bigint NOT NULL)`,
      );
      await db.exec(
        `CREATE TABLE ${p}_reg (document_id int NOT NULL, domain varchar(40) NOT NULL, PRIMARY KEY (document_id, domain))`,
      );
      await db.exec(
        `CREATE TABLE ${p}_person (person_id int PRIMARY KEY, name varchar(100) NOT NULL, rev bigint NOT NULL)`,
      );
      await db.exec(
        `CREATE TABLE ${p}_phone (phone_id int PRIMARY KEY, person_id int NOT NULL, num varchar(40) NOT NULL, rev bigint NOT NULL)`,
      );
      for (const c of CUSTOMERS) {
        await db.exec(
          `CREATE TABLE ${p}_${c} (document_id int PRIMARY KEY, title varchar(100), rev bigint, domain varchar(40), erpstream_version ${num})`,
        );
      }
      await db.exec(
        `CREATE TABLE ${p}_person_out (person_id int PRIMARY KEY, name varchar(100), rev bigint, erpstream_version ${num})`,
      );
      await db.exec(
        `CREATE TABLE ${p}_phone_out (phone_id int PRIMARY KEY, person_id int, num varchar(40), rev bigint, erpstream_version ${num})`,
      );
    });

    afterAll(async () => {
      for (const t of ['doc', 'reg', 'person', 'phone', ...CUSTOMERS, 'person_out', 'phone_out', 'ledger', 'parked']) {
        await db.exec(`DROP TABLE IF EXISTS ${p}_${t}`);
      }
      await db.close();
    });

    function specs() {
      const common = {
        'lookup.connection.url': db.url,
        'lookup.batch.size': '7',
        'ledger.table': `${p}_ledger`,
        'park.table': `${p}_parked`,
        'park.check.interval.ms': '100',
        'park.retry.initial.ms': '20',
        'park.retry.max.ms': '100',
        'park.max.duration.ms': '3600000',
      };
      const docs = {
        ...common,
        'lookup.query':
          `SELECT d.document_id, d.title, d.rev, r.domain FROM ${p}_doc d LEFT JOIN ${p}_reg r ` +
          `ON r.document_id = d.document_id WHERE d.document_id IN (:ids)`,
        'lookup.key.columns': 'document_id',
        'entity.name': 'document',
        dependencies: 'registered',
        'dependencies.registered.type': 'field',
        'dependencies.registered.field': 'domain',
        'dependencies.registered.topic': T.reg,
        'dependencies.registered.topic.id.field': 'document_id',
      };
      return [
        {
          name: 'docs-kafka',
          topics: [T.doc, T.reg],
          props: {
            ...docs,
            'destination.type': 'kafka',
            'destination.name': `${p}-k`,
            'destination.topic': `${p}_\${domain}`,
          },
        },
        {
          name: 'docs-jdbc',
          topics: [T.doc, T.reg],
          props: {
            ...docs,
            'destination.type': 'jdbc',
            'destination.name': `${p}-j`,
            'destination.table': `${p}_\${domain}`,
          },
        },
        {
          name: 'docs-http',
          topics: [T.doc, T.reg],
          props: {
            ...docs,
            'destination.type': 'http',
            'destination.name': `${p}-h`,
            'destination.url': `http://127.0.0.1:${port}/${p}/\${domain}`,
            'destination.http.retry.initial.ms': '10',
          },
        },
        {
          name: 'persons',
          topics: [T.person],
          props: {
            ...common,
            'lookup.table': `${p}_person`,
            'lookup.key.columns': 'person_id',
            'entity.name': 'person',
            'destination.type': 'jdbc',
            'destination.name': `${p}-crm`,
            'destination.table': `${p}_person_out`,
          },
        },
        {
          name: 'phones',
          topics: [T.phone],
          props: {
            ...common,
            'lookup.table': `${p}_phone`,
            'lookup.key.columns': 'phone_id',
            'entity.name': 'phone',
            dependencies: 'owner',
            'dependencies.owner.type': 'ledger',
            'dependencies.owner.entity': 'person',
            'dependencies.owner.id.field': 'person_id',
            'destination.type': 'jdbc',
            'destination.name': `${p}-crm`,
            'destination.table': `${p}_phone_out`,
          },
        },
      ];
    }

    // Seeds in chunks of CHUNK, each with its own worker process and its own `it` (a timeout names its chunk). The
    // chunks share tables and topics; ids are the seed's (seed * 10 + n), so each chunk checks only its own.
    for (let first = SEED_BASE; first < SEED_BASE + SEEDS; first += CHUNK) {
      const last = Math.min(SEED_BASE + SEEDS, first + CHUNK) - 1;
      const mine = (id: unknown) => Math.floor(Number(id) / 10) >= first && Math.floor(Number(id) / 10) <= last;
      it(`seeds ${first}..${last}: each customer holds exactly what is registered to it`, async () => {
        const log: LogEntry[] = [];
        const docs = new Map<number, DocState>();
        const persons = new Map<number, bigint>();
        const phones = new Map<number, { person: number; rev: bigint; num: string }>();
        const poison: string[] = [];
        let rev = 1000n;
        let committed = 0;
        const worker = new Worker(JSON.stringify({ specs: specs(), brokers: requireEnv('KAFKA_BROKERS') }));
        const add = (topic: string, key: unknown, value: unknown, version: bigint | null) =>
          log.push({ topic, offset: log.length, key, value, version: version === null ? null : version.toString() });
        /** Feeds the log up to `to`, maybe killing the worker on the way (the batch then replays). */
        /** Each feed as `from-to` (+`!ms` when a kill was armed, `x` when it landed first): a failure shows the run. */
        const schedule: string[] = [];
        const feed = async (to: number, killAfterMs: number | null) => {
          const msg = await worker.send({ batch: log.slice(committed, to) }, killAfterMs);
          schedule.push(`${committed}-${to}${killAfterMs === null ? '' : `!${killAfterMs}`}${msg ? '' : 'x'}`);
          if (msg?.done !== undefined) committed = to;
          else if (worker.failures.length > 0) throw new Error(`The worker failed on a batch: ${worker.failures[0]}`);
        };
        try {
          for (let seed = first; seed <= last; seed++) {
            const r = rng(seed);
            const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
            const docIds = [1, 2, 3, 4].map((i) => seed * 10 + i);
            const personIds = [1, 2].map((i) => seed * 10 + i);
            const phoneIds = [1, 2, 3].map((i) => seed * 10 + i);
            // Some persons never arrive: their phones must stay undelivered (waiting), never reach the DLQ.
            const arrives = new Map(personIds.map((id) => [id, r() < 0.7]));
            const steps = 12 + Math.floor(r() * 10);
            for (let step = 0; step < steps; step++) {
              const op = r();
              if (op < 0.3) {
                const id = pick(docIds);
                const d = docs.get(id);
                rev++;
                if (!d || !d.exists) {
                  await db.exec(`INSERT INTO ${p}_doc VALUES (?, ?, ?)`, [id, `t${rev}`, rev.toString()]);
                  docs.set(id, { exists: true, title: `t${rev}`, rev, regs: d?.regs ?? new Set() });
                } else if (r() < 0.15) {
                  await db.exec(`DELETE FROM ${p}_doc WHERE document_id = ?`, [id]);
                  d.exists = false;
                } else {
                  await db.exec(`UPDATE ${p}_doc SET title = ?, rev = ? WHERE document_id = ?`, [
                    `t${rev}`,
                    rev.toString(),
                    id,
                  ]);
                  d.title = `t${rev}`;
                  d.rev = rev;
                }
                add(T.doc, { document_id: id }, { op: 'u' }, rev);
              } else if (op < 0.55) {
                const id = pick(docIds);
                const d = docs.get(id) ?? { exists: false, title: '', rev: 0n, regs: new Set<string>() };
                docs.set(id, d);
                const c = pick(CUSTOMERS);
                const key = { document_id: id, domain: c };
                if (d.regs.has(c)) {
                  await db.exec(`DELETE FROM ${p}_reg WHERE document_id = ? AND domain = ?`, [id, c]);
                  d.regs.delete(c);
                  add(T.reg, key, { op: 'd', before: key, after: null }, null);
                  add(T.reg, key, null, null);
                } else if (d.regs.size < 3) {
                  await db.exec(`INSERT INTO ${p}_reg VALUES (?, ?)`, [id, c]);
                  d.regs.add(c);
                  add(T.reg, key, { ...key }, null);
                }
              } else if (op < 0.7) {
                const id = pick(personIds);
                if (!arrives.get(id)) continue;
                rev++;
                if (persons.has(id))
                  await db.exec(`UPDATE ${p}_person SET name = ?, rev = ? WHERE person_id = ?`, [
                    `n${rev}`,
                    rev.toString(),
                    id,
                  ]);
                else await db.exec(`INSERT INTO ${p}_person VALUES (?, ?, ?)`, [id, `n${rev}`, rev.toString()]);
                persons.set(id, rev);
                add(T.person, { person_id: id }, { op: 'u' }, rev);
              } else if (op < 0.85) {
                const id = pick(phoneIds);
                rev++;
                const ph = phones.get(id);
                if (ph) {
                  await db.exec(`UPDATE ${p}_phone SET num = ?, rev = ? WHERE phone_id = ?`, [
                    `+${rev}`,
                    rev.toString(),
                    id,
                  ]);
                  ph.rev = rev;
                  ph.num = `+${rev}`;
                } else {
                  const person = pick(personIds);
                  await db.exec(`INSERT INTO ${p}_phone VALUES (?, ?, ?, ?)`, [id, person, `+${rev}`, rev.toString()]);
                  phones.set(id, { person, rev, num: `+${rev}` });
                }
                add(T.phone, { phone_id: id }, { op: 'u' }, rev);
              } else if (op < 0.9 && !poison.includes(`p${seed}x`)) {
                // An id no integer column takes: PostgreSQL refuses it, MariaDB coerces it with a warning.
                rev++;
                poison.push(`p${seed}x`);
                add(T.doc, `p${seed}x`, { op: 'u' }, rev);
              } else {
                // Drawn whether or not there is something to feed: what was committed depends on when a kill landed,
                // and the seed must replay the same documents and log whatever the kills did.
                const [span, killDraw, killAt] = [r(), r(), r()];
                if (committed < log.length) {
                  const to = committed + 1 + Math.floor(span * (log.length - committed));
                  await feed(to, killDraw < 0.3 ? Math.floor(killAt * 60) : null);
                }
              }
            }
          }
          // Every chunk is killed at least once, in the middle of a batch (a small sample may draw no kill).
          for (let i = 0; i < 5 && worker.kills === 0 && committed < log.length; i++) {
            await feed(log.length, 5 + i * 5);
          }
          while (committed < log.length) await feed(log.length, null);
          const settled = await worker.send({ settle: true });
          expect(settled?.settled).toBeDefined();
        } finally {
          worker.stop();
        }

        const where = `${kind} seeds ${first}..${last} (kills: ${worker.kills}; feeds: ${schedule.join(' ')})`;
        const pairs = [...docs.values()].filter((d) => d.exists).reduce((n, d) => n + d.regs.size, 0);
        process.stdout.write(
          `randomized ${where}: ${log.length} records, ${docs.size} documents, ${pairs} document-customer pairs, ` +
            `${poison.length} poison ids, ${persons.size}/${phones.size} persons/phones\n`,
        );
        // Expected per customer: the documents registered to it, at the origin's latest state.
        const expected = (c: string) =>
          new Map(
            [...docs]
              .filter(([, d]) => d.exists && d.regs.has(c))
              .map(([id, d]) => [String(id), { title: d.title, rev: d.rev.toString() }]),
          );
        for (const c of CUSTOMERS) {
          const want = expected(c);
          // jdbc
          const rows = await db.rows(`SELECT document_id, title, rev FROM ${p}_${c}`);
          const got = new Map(
            rows
              .filter((row) => mine(row.document_id))
              .map((row) => [String(row.document_id), { title: String(row.title), rev: String(row.rev) }]),
          );
          expect(got, `jdbc ${c} ${where}`).toEqual(want);
          // kafka: the latest value per key; tombstones for what it no longer holds; revisions never go back.
          const lastByKey = new Map<string, { title: string; rev: string } | null>();
          const revs = new Map<string, bigint>();
          const backwards: string[] = [];
          await access
            .readAll(`${p}_${c}`, (key, value) => {
              const k = key!.toString();
              if (!mine(k)) return;
              if (value === null) return void lastByKey.set(k, null);
              const v = JSON.parse(value.toString()) as { title: string; rev: number | string };
              const rv = BigInt(v.rev);
              if (rv < (revs.get(k) ?? 0n)) backwards.push(`${k}: ${revs.get(k)} then ${rv}`);
              revs.set(k, rv);
              lastByKey.set(k, { title: v.title, rev: String(v.rev) });
            })
            .catch((e: unknown) => {
              // A customer nothing was ever delivered to has no topic.
              if (want.size > 0) throw e;
            });
          const kafkaHeld = new Map(
            [...lastByKey].filter(([, v]) => v !== null) as Array<[string, { title: string; rev: string }]>,
          );
          expect(kafkaHeld, `kafka ${c} ${where}`).toEqual(want);
          expect(backwards, `kafka ${c} went back ${where}`).toEqual([]);
          // http: the last event per id; POST rows never go back. The version label may step back only where a kill
          // left the ledger behind what was sent, with a row no older than the newest sent (docs/lookup-sink.md,
          // "What remains": the replay's batches may end between two versions of a document, and the older record
          // is then decided again with the row read at that moment).
          const httpHeld = new Map<string, { title: string; rev: string }>();
          for (const [k, events] of httpEvents) {
            const [path, id] = k.split('|') as [string, string];
            if (path !== `/${p}/${c}` || !mine(id)) continue;
            let high = 0n;
            let highRow = 0n;
            for (const e of events.filter((x) => x.method === 'POST')) {
              const rowRev = BigInt(String(e.row!.rev));
              const seen = `${events.map((x) => `${x.method} ${x.version} (row ${String(x.row?.rev)})`).join(', ')}`;
              expect(rowRev >= highRow, `http ${c} ${id} row went back (${seen}) ${where}`).toBe(true);
              expect(e.version >= high || worker.kills > 0, `http ${c} ${id} went back (${seen}) ${where}`).toBe(true);
              high = e.version > high ? e.version : high;
              highRow = rowRev;
            }
            const last = events.at(-1)!;
            if (last.method === 'POST')
              httpHeld.set(id, { title: String(last.row!.title), rev: String(last.row!.rev) });
          }
          expect(httpHeld, `http ${c} ${where}`).toEqual(want);
        }
        // Persons and phones: a phone is delivered exactly when its person arrived, with its latest state.
        const phoneRows = await db.rows(`SELECT phone_id, person_id, num FROM ${p}_phone_out`);
        const wantPhones = new Map(
          [...phones].filter(([, ph]) => persons.has(ph.person)).map(([id, ph]) => [String(id), ph.num]),
        );
        expect(
          new Map(phoneRows.filter((row) => mine(row.phone_id)).map((row) => [String(row.phone_id), String(row.num)])),
          `phones ${where}`,
        ).toEqual(wantPhones);
        const personRows = await db.rows(`SELECT person_id FROM ${p}_person_out`);
        expect(
          personRows
            .map((row) => Number(row.person_id))
            .filter(mine)
            .sort((a, b) => a - b),
        ).toEqual([...persons.keys()].sort((a, b) => a - b));
        // The DLQ holds the poison ids (each docs connector reports them), and nothing else.
        const reported = new Set(worker.dlq.map((d) => `${d.task}:${String(d.key)}`));
        const wantDlq = new Set(
          poison.flatMap((k) => ['docs-kafka', 'docs-jdbc', 'docs-http'].map((t) => `${t}:${k}`)),
        );
        expect(reported, `dlq ${where}: ${JSON.stringify(worker.dlq.slice(0, 3))}`).toEqual(wantDlq);
      }, 900_000);
    }
  });
}

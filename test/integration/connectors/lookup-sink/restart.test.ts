import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { DeliveryLedger } from '../../../../connectors/lookup-sink/ledger.js';
import { ParkStore } from '../../../../connectors/lookup-sink/park-store.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type DeliveryEvent, type Reported, recording, sinkRecord, testContext } from './harness.js';

// A task parks records, is SIGKILLed, and a new task takes over: the parked records are recovered from the park
// table and released once ready, replays are dropped, nothing goes backwards.
const sfx = uniqueSuffix();
const schema = `ls_restart_${sfx}`;
let db: pg.Client;

const props = (): Record<string, string> => ({
  'lookup.connection.url': requireEnv('PG_URL'),
  'lookup.query':
    `SELECT d.document_id, d.title, d.rev, dd.domain FROM ${schema}.document d ` +
    `LEFT JOIN ${schema}.document_domain dd ON dd.document_id = d.document_id WHERE d.document_id IN (:ids)`,
  'lookup.key.columns': 'document_id',
  'entity.name': 'document',
  dependencies: 'registered',
  'dependencies.registered.type': 'sql',
  'dependencies.registered.query': `SELECT 1 FROM ${schema}.document_domain WHERE document_id = :id AND domain = :domain`,
  'destination.type': 'jdbc',
  'destination.table': `${schema}.document_out`,
  'ledger.table': `${schema}.ledger`,
  'park.table': `${schema}.parked`,
  'park.check.interval.ms': '3600000',
  'park.retry.initial.ms': '1',
  'park.retry.max.ms': '1',
});

async function setDoc(id: number, title: string, rev: number): Promise<void> {
  await db.query(
    `INSERT INTO ${schema}.document VALUES ($1, $2, $3) ON CONFLICT (document_id) DO UPDATE SET title = EXCLUDED.title, rev = EXCLUDED.rev`,
    [id, title, rev],
  );
}

function runChildUntilParked(records: Array<{ offset: string; key: number; version: string }>): Promise<{
  committed: string[];
  metrics: { parked: number; delivered: number };
}> {
  const script = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify({ props: props(), records })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  child.once('exit', () => clearTimeout(killer));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        child.kill('SIGKILL');
        child.once('exit', (_code, signal) => {
          if (signal !== 'SIGKILL') reject(new Error(`child exited with ${signal}`));
          else resolve(JSON.parse(out.split('\n')[0]!) as never);
        });
      }
    });
    child.once('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`child exited (${code}) before parking: ${err}`));
    });
  }).then((r) => r as never);
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: requireEnv('PG_URL') });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text, rev bigint NOT NULL)`);
  await db.query(`CREATE TABLE ${schema}.document_domain (document_id int PRIMARY KEY, domain text NOT NULL)`);
  await db.query(
    `CREATE TABLE ${schema}.document_out (document_id int PRIMARY KEY, title text, rev bigint, domain text, erpstream_version numeric(20,0))`,
  );
});

afterAll(async () => {
  await db.query(`DROP SCHEMA ${schema} CASCADE`);
  await db.end();
});

describe('LookupSink crash and restart', () => {
  it('recovers parked records after SIGKILL and releases them without going backwards', async () => {
    for (const id of [1, 2, 3, 4]) await setDoc(id, `t${id}`, 10 + id);
    await db.query(`INSERT INTO ${schema}.document_domain VALUES (4, 'acme')`);
    const batch = [1, 2, 3, 4].map((id, i) => ({ offset: String(i), key: id, version: String(10 + id) }));

    const child = await runChildUntilParked(batch);
    // In the child: three parked, one delivered, and every offset was safe to commit.
    expect(child.metrics).toMatchObject({ parked: 3, delivered: 1 });
    expect(child.committed).toEqual(['4']);

    // Meanwhile document 3 changes again; its event is still in flight (not consumed yet).
    await setDoc(3, 't3-new', 20);
    await db.query(`INSERT INTO ${schema}.document_domain VALUES (1, 'acme'), (2, 'globex')`);

    const log: DeliveryEvent[] = [];
    const dlq: Reported[] = [];
    const task = new LookupSinkTask({ wrapDestination: recording(log) });
    task.initialize(testContext({ dlq }));
    await task.start(props());
    try {
      expect(task.metrics().parked).toBe(3);
      // The worker replays what it had not committed: all dropped (delivered or already parked).
      await task.put(
        batch.map((b) =>
          sinkRecord({ topic: 'documents', offset: BigInt(b.offset), key: b.key, version: BigInt(b.version) }),
        ),
      );
      expect(task.metrics()).toMatchObject({ staleDropped: 4, delivered: 0 });
      await task.put([sinkRecord({ topic: 'documents', offset: 4n, key: 3, version: 20n })]);
      await task.checkParked();
      expect(task.metrics()).toMatchObject({ parked: 1, released: 2 });

      await db.query(`INSERT INTO ${schema}.document_domain VALUES (3, 'acme')`);
      await new Promise((r) => setTimeout(r, 2));
      await task.checkParked();
      expect(task.metrics()).toMatchObject({ parked: 0, released: 3 });
      expect(log.map((e) => [e.entityId, e.version])).toEqual([
        ['1', 11n],
        ['2', 12n],
        ['3', 20n],
      ]);
      const out = await db.query(
        `SELECT document_id, title, domain, erpstream_version::int AS v FROM ${schema}.document_out ORDER BY 1`,
      );
      expect(out.rows).toEqual([
        { document_id: 1, title: 't1', domain: 'acme', v: 11 },
        { document_id: 2, title: 't2', domain: 'globex', v: 12 },
        { document_id: 3, title: 't3-new', domain: 'acme', v: 20 },
        { document_id: 4, title: 't4', domain: 'acme', v: 14 },
      ]);
      expect(dlq).toEqual([]);
    } finally {
      await task.stop();
    }
  });

  it('sends a record parked longer than park.max.duration.ms to the DLQ with the reason', async () => {
    await setDoc(50, 'never registered', 1);
    const dlq: Reported[] = [];
    const task = new LookupSinkTask();
    task.initialize(testContext({ dlq }));
    await task.start({ ...props(), 'park.max.duration.ms': '100' });
    try {
      await task.put([sinkRecord({ topic: 'documents', offset: 100n, key: 50, version: 1n })]);
      await task.flush(); // put() may return before a pipelined batch's park write lands
      expect(task.metrics().parked).toBe(1);
      await new Promise((r) => setTimeout(r, 120));
      await task.checkParked();
      expect(task.metrics()).toMatchObject({ parked: 0, dlq: { default: 1 } });
      expect(dlq).toHaveLength(1);
      expect(dlq[0]!.record).toMatchObject({ topic: 'documents', kafkaOffset: 100n, key: 50 });
      expect(dlq[0]!.error.message).toMatch(
        /park.max.duration.ms=100.*dependency registered: check query returned no row/,
      );
    } finally {
      await task.stop();
    }
  });

  // The ledger in another database (a client of its own): the destination commits, then the ledger is written.
  // Beside the destination: both commit together, then the park row goes.
  for (const [where, id, crashIn] of [
    ['in another database', 60, 'the ledger write'],
    ['beside the destination', 61, 'the park removal'],
  ] as const) {
    it(`a crash after a released delivery, in ${crashIn}, leaves the park row: the ledger catches up (ledger ${where})`, async () => {
      // A parked record's offset is committed when it is parked, so no replay will bring it back: if its park row
      // went before its ledger entry was written, the ledger would claim less than was delivered for ever, and
      // children waiting on it would expire although it was delivered.
      const p = {
        ...props(),
        ...(where === 'in another database'
          ? {
              'ledger.connection.url': `${requireEnv('PG_URL')}${requireEnv('PG_URL').includes('?') ? '&' : '?'}application_name=ledger`,
            }
          : {}),
      };
      await setDoc(id, 'released', 5);
      const first = new LookupSinkTask();
      first.initialize(testContext({ dlq: [] }));
      await first.start(p);
      await first.put([sinkRecord({ topic: 'documents', offset: 200n + BigInt(id), key: id, version: 5n })]);
      await first.flush();
      expect(first.metrics().parked).toBe(1);
      await db.query(`INSERT INTO ${schema}.document_domain VALUES ($1, 'acme')`, [id]);
      await new Promise((r) => setTimeout(r, 2));
      // The process dies while it writes (after the destination took the row): the write never lands, whatever
      // else was under way meanwhile did.
      const target = where === 'in another database' ? DeliveryLedger.prototype : ParkStore.prototype;
      const method = where === 'in another database' ? 'record' : 'remove';
      const original = target[method as keyof typeof target];
      Object.assign(target, {
        [method]: () => new Promise((_, reject) => setTimeout(() => reject(new Error(`killed in ${crashIn}`)), 300)),
      });
      try {
        await expect(first.checkParked()).rejects.toThrow(/killed in/);
      } finally {
        Object.assign(target, { [method]: original });
        await first.stop().catch(() => {});
      }
      const { rows: delivered } = await db.query(`SELECT title FROM ${schema}.document_out WHERE document_id = $1`, [
        id,
      ]);
      expect(delivered).toEqual([{ title: 'released' }]);

      const next = new LookupSinkTask();
      next.initialize(testContext({ dlq: [] }));
      await next.start(p);
      try {
        expect(next.metrics().parked).toBe(1);
        await next.checkParked();
        expect(next.metrics().parked).toBe(0);
        const { rows } = await db.query(
          `SELECT version::int AS v, deleted FROM ${schema}.ledger WHERE entity = 'document' AND entity_id = $1`,
          [String(id)],
        );
        expect(rows).toEqual([{ v: 5, deleted: false }]);
      } finally {
        await next.stop();
      }
    });
  }
  it('a task that started with an empty park still re-checks what another task parks afterwards', async () => {
    await setDoc(70, 'parked elsewhere', 7);
    const other = new LookupSinkTask();
    other.initialize(testContext({ dlq: [] }));
    await other.start(props()); // creates the tables when this test runs alone
    await db.query(`DELETE FROM ${schema}.parked`);
    const idle = new LookupSinkTask();
    idle.initialize(testContext({ dlq: [] }));
    await idle.start(props());
    try {
      // The idle task counted an empty park (it skips its re-check queries from now on); the other one parks 70.
      expect(idle.metrics().parked).toBe(0);
      await other.put([sinkRecord({ topic: 'documents', offset: 700n, key: 70, version: 7n })]);
      await other.flush();
      expect(other.metrics().parked).toBe(1);
      await db.query(`INSERT INTO ${schema}.document_domain VALUES (70, 'acme')`);
      await new Promise((r) => setTimeout(r, 2));
      // The idle task's re-check must not trust its empty count: it counts again, finds 70 and releases it.
      await idle.checkParked();
      expect(idle.metrics()).toMatchObject({ parked: 0, released: 1 });
      const { rows } = await db.query(`SELECT title FROM ${schema}.document_out WHERE document_id = 70`);
      expect(rows).toEqual([{ title: 'parked elsewhere' }]);
    } finally {
      await other.stop();
      await idle.stop();
    }
  });
});

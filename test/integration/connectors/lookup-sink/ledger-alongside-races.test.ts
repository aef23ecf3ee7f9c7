import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Destination, LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type DeliveryEvent, type Reported, recording, sinkRecord, testContext } from './harness.js';
import { registeredDocuments } from './registrations.js';

// A jdbc destination in the ledger's database commits a delivery with its ledger entries while the batch is SENT;
// a batch without deliveries (a withdrawal) still writes its ledger entry when it is RECORDED, which the pipeline
// runs beside the next batch's send. These try to break the order of those writes, and the lock order of the two
// forms the commit takes (one statement on PostgreSQL, a transaction for several tables).
const sfx = uniqueSuffix();
const docs = registeredDocuments(`ls_alrace_${sfx}`);
const { schema, docTopic } = docs;
let db: pg.Client;

beforeAll(async () => {
  db = new pg.Client({ connectionString: requireEnv('PG_URL') });
  await db.connect();
  await docs.create(db);
  // Items routed by region to two tables, for the lock-order test.
  await db.query(`CREATE TABLE ${schema}.item (id int PRIMARY KEY, title text NOT NULL, region text NOT NULL)`);
  await db.query(`INSERT INTO ${schema}.item SELECT g, 'title ' || g, 'a' FROM generate_series(1, 1000) g`);
  await db.query(`INSERT INTO ${schema}.item VALUES (5000, 'elsewhere', 'b')`);
  for (const region of ['a', 'b']) {
    await db.query(
      `CREATE TABLE ${schema}.out_${region} (id int PRIMARY KEY, title text, erpstream_version numeric(20,0))`,
    );
  }
  for (const domain of ['acme', 'globex']) {
    await db.query(
      `CREATE TABLE ${schema}.docs_${domain} (document_id int PRIMARY KEY, title text, domain text, erpstream_version numeric(20,0))`,
    );
  }
});

afterAll(async () => {
  await docs.drop(db);
  await db.end();
});

async function held(domain: string): Promise<Map<number, string>> {
  const r = await db.query(`SELECT document_id AS id, erpstream_version::text AS v FROM ${schema}.docs_${domain}`);
  return new Map(r.rows.map((x: { id: number; v: string }) => [x.id, x.v]));
}

async function entry(id: number): Promise<{ version: string; targets: string } | undefined> {
  const r = await db.query(`SELECT version::text AS version, targets FROM ${schema}.ledger WHERE entity_id = $1`, [
    String(id),
  ]);
  return r.rows[0] as { version: string; targets: string } | undefined;
}

describe('LookupSink: a jdbc delivery committed with its ledger entries, pipelined', () => {
  it('a withdrawal recorded late does not overwrite the next batch’s delivery of the same version', async () => {
    const dlq: Reported[] = [];
    const task = new LookupSinkTask();
    task.initialize(testContext({ dlq }));
    await task.start({
      ...docs.lookupProps(),
      'destination.type': 'jdbc',
      'destination.name': `race_${sfx}`,
      'destination.table': `${schema}.docs_\${domain}`,
    });
    let offset = 0n;
    const next = () => offset++;
    try {
      await db.query(`INSERT INTO ${schema}.document VALUES (1, 'one')`);
      await db.query(`INSERT INTO ${schema}.document_domain VALUES (1, 'acme')`);
      await task.put([
        docs.registered(next(), 1, 'acme'),
        sinkRecord({ topic: docTopic, offset: next(), key: { document_id: 1 }, version: 101n }),
      ]);
      await task.flush();
      expect(await held('acme')).toEqual(new Map([[1, '101']]));

      // The database is slow with the withdrawal's ledger write (an entry held nowhere): it lands after the next
      // batch, which the pipeline sends while this one is recorded.
      await db.query(
        `CREATE FUNCTION ${schema}.slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1.5); RETURN NEW; END $$`,
      );
      await db.query(
        `CREATE TRIGGER slow BEFORE INSERT ON ${schema}.ledger FOR EACH ROW WHEN (NEW.targets = '[]') EXECUTE FUNCTION ${schema}.slow()`,
      );
      // Document 1 moves from acme to globex: two registration changes, two batches, both at version 101.
      await db.query(`DELETE FROM ${schema}.document_domain WHERE document_id = 1`);
      await task.put(docs.unregistered(next, 1, 'acme'));
      await db.query(`INSERT INTO ${schema}.document_domain VALUES (1, 'globex')`);
      await task.put([docs.registered(next(), 1, 'globex')]);
      await task.flush();
      await db.query(`DROP TRIGGER slow ON ${schema}.ledger`);
      expect(await held('acme')).toEqual(new Map());
      expect(await held('globex')).toEqual(new Map([[1, '101']]));
      expect
        .soft((await entry(1))?.targets, 'the ledger lists where the document is')
        .toBe(`[["${schema}.docs_globex",null,"101"]]`);

      // The proof a consumer sees: globex drops the document, and its row must go.
      await db.query(`DELETE FROM ${schema}.document_domain WHERE document_id = 1`);
      await task.put(docs.unregistered(next, 1, 'globex'));
      await task.flush();
      expect(await held('globex'), 'a withdrawn document is not left at globex').toEqual(new Map());
      expect(dlq).toEqual([]);
    } finally {
      await task.stop();
    }
  });
});

describe('LookupSink: jdbc deliveries committed with their ledger entries, routed to two tables', () => {
  const start = async (wrap?: (d: Destination) => Destination, extra: Record<string, string> = {}) => {
    const t = new LookupSinkTask(wrap ? { wrapDestination: wrap } : {});
    t.initialize(testContext({ dlq: [] }));
    await t.start({
      'lookup.connection.url': requireEnv('PG_URL'),
      'lookup.table': `${schema}.item`,
      'lookup.key.columns': 'id',
      'entity.name': 'item',
      'destination.type': 'jdbc',
      'destination.name': `regions_${sfx}`,
      'destination.table': `${schema}.out_\${region}`,
      'ledger.table': `${schema}.ledger`,
      'park.table': `${schema}.parked`,
      'park.check.interval.ms': '3600000',
      ...extra,
    });
    return t;
  };
  const topic = `items-${sfx}`;
  const records = (ids: readonly number[], version: bigint, from: number) =>
    ids.map((id, i) => sinkRecord({ topic, offset: BigInt(from + i), key: { id }, version }));

  it('a one-table batch (one statement) and a two-table batch (a transaction) of the same entities do not deadlock', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => i + 1);
    // A: every item of region a (one table: one statement). B, a task not yet fenced after a rebalance: the same
    // items and one of region b (two tables: a transaction).
    const a = await start();
    const b = await start();
    try {
      for (let round = 1; round <= 8; round++) {
        const v = BigInt(round * 10);
        await Promise.all([
          a.put(records(ids, v + 1n, round * 10_000)).then(() => a.flush()),
          b.put(records([...ids, 5000], v, round * 10_000)).then(() => b.flush()),
        ]);
        const r = await db.query(
          `SELECT count(*)::int AS n, min(erpstream_version)::text AS lo, max(erpstream_version)::text AS hi FROM ${schema}.out_a`,
        );
        expect(r.rows[0], `round ${round}`).toEqual({ n: 1000, lo: String(v + 1n), hi: String(v + 1n) });
        const l = await db.query(
          `SELECT min(version)::text AS lo FROM ${schema}.ledger WHERE destination = $1 AND entity_id <> '5000'`,
          [`regions_${sfx}`],
        );
        expect(l.rows[0].lo, `round ${round}: the ledger`).toBe(String(v + 1n));
      }
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('two tasks deleting the same entities in opposite orders do not deadlock', async () => {
    const ids = Array.from({ length: 600 }, (_, i) => i + 2001);
    await db.query(`INSERT INTO ${schema}.item SELECT g, 'gone ' || g, 'a' FROM generate_series(2001, 2600) g`);
    const a = await start();
    const b = await start();
    try {
      await a.put(records(ids, 1n, 900_000));
      await a.flush();
      const count = async () =>
        (await db.query(`SELECT count(*)::int AS n FROM ${schema}.out_a WHERE id > 2000`)).rows[0].n as number;
      expect(await count()).toBe(600);
      // Deleted at the origin; both tasks (one not yet fenced after a rebalance) get the deletes, in opposite orders.
      await db.query(`DELETE FROM ${schema}.item WHERE id > 2000`);
      await Promise.all([
        a.put(records(ids, 2n, 910_000)).then(() => a.flush()),
        b.put(records([...ids].reverse(), 2n, 910_000)).then(() => b.flush()),
      ]);
      expect(await count()).toBe(0);
      const l = await db.query(
        `SELECT count(*)::int AS n FROM ${schema}.ledger WHERE destination = $1 AND deleted AND version = 2`,
        [`regions_${sfx}`],
      );
      expect(l.rows[0].n).toBe(600);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('entities moving between tables in a batch that fails after its removals: the batch consumed again puts each in its table once', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => i + 3001);
    const movers = ids.slice(0, 10);
    await db.query(`INSERT INTO ${schema}.item SELECT g, 'moving ' || g, 'a' FROM generate_series(3001, 3020) g`);
    // The ledger named explicitly, by the lookup's URL: still the same database and login, so still one commit.
    const sameDb = { 'destination.name': `moves_${sfx}`, 'ledger.connection.url': requireEnv('PG_URL') };
    const where = async () => {
      const r = await db.query(
        `SELECT 'a' AS t, id, erpstream_version::int AS v FROM ${schema}.out_a WHERE id BETWEEN 3001 AND 3020 ` +
          `UNION ALL SELECT 'b', id, erpstream_version::int FROM ${schema}.out_b WHERE id BETWEEN 3001 AND 3020 ORDER BY id, t`,
      );
      return r.rows.map((x: { t: string; id: number; v: number }) => `${x.id}:${x.t}@${x.v}`);
    };
    const entries = async () => {
      const r = await db.query(
        `SELECT entity_id, version::int AS v, targets FROM ${schema}.ledger WHERE destination = $1 ORDER BY entity_id`,
        [`moves_${sfx}`],
      );
      return r.rows.map(
        (x: { entity_id: string; v: number; targets: string }) =>
          `${x.entity_id}@${x.v}:${(JSON.parse(x.targets) as Array<[string, null, string]>).map(([t, , v]) => `${t.split('.').pop()}@${v}`).join(',')}`,
      );
    };
    const first = await start(undefined, sameDb);
    await first.put(records(ids, 1n, 0));
    await first.flush();
    await first.stop();
    expect(await where()).toEqual(ids.map((id) => `${id}:a@1`));

    // Ten move to region b; the batch (removals from out_a, then rows for out_a and out_b with the ledger) fails
    // once its removals are committed.
    await db.query(`UPDATE ${schema}.item SET region = 'b' WHERE id BETWEEN 3001 AND 3010`);
    const alongside: number[] = [];
    const failing = await start(
      (d) => ({
        ...recording([])(d),
        async deliver(items, statements) {
          alongside.push(statements?.length ?? 0);
          throw new Error('connection lost');
        },
      }),
      sameDb,
    );
    await failing.put(records(ids, 2n, 100)).catch(() => {});
    await expect(failing.flush()).rejects.toThrow(/connection lost/);
    await failing.stop();
    expect(alongside, 'the explicitly named ledger shares the destination’s commit').toEqual([1]);
    // The movers left out_a; the ledger still says where they were (so a replay withdraws them again, harmlessly).
    expect(await where()).toEqual(ids.slice(10).map((id) => `${id}:a@1`));
    expect(await entries()).toEqual(ids.map((id) => `${id}@1:out_a@1`));

    const log: DeliveryEvent[] = [];
    const again = await start(recording(log), sameDb);
    try {
      await again.put(records(ids, 2n, 100));
      // Pipelined behind it: two movers go back, one stayer moves, at a newer version.
      await db.query(`UPDATE ${schema}.item SET region = 'a' WHERE id IN (3001, 3002)`);
      await db.query(`UPDATE ${schema}.item SET region = 'b' WHERE id = 3020`);
      await again.put(records([3001, 3002, 3020], 3n, 200));
      await again.flush();
      const table = (id: number) =>
        [3001, 3002].includes(id) ? 'a' : id === 3020 ? 'b' : movers.includes(id) ? 'b' : 'a';
      const version = (id: number) => ([3001, 3002, 3020].includes(id) ? 3 : 2);
      expect(await where()).toEqual(ids.map((id) => `${id}:${table(id)}@${version(id)}`));
      expect(await entries()).toEqual(ids.map((id) => `${id}@${version(id)}:out_${table(id)}@${version(id)}`));
      const delivered = log.filter((e) => e.kind === 'deliver').map((e) => `${e.entityId}@${e.version}`);
      expect(new Set(delivered).size, 'nothing delivered twice').toBe(delivered.length);
    } finally {
      await again.stop();
    }
  });
});

import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Destination, LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { DeliveryLedger, entryOf } from '../../../../connectors/lookup-sink/ledger.js';
import { ParkStore } from '../../../../connectors/lookup-sink/park-store.js';
import { openSqlClient } from '../../../../connectors/lookup-sink/sql/client.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type DeliveryEvent, raceInOppositeOrders, recording, sinkRecord, testContext } from './harness.js';
import { registeredDocuments } from './registrations.js';

// A jdbc destination in the ledger's database commits each delivery together with its ledger entries (no intent
// written ahead). These try to break that: a statement that fails half way, a crash right after the commit, and two
// tasks writing the same entities in opposite orders at once.
const sfx = uniqueSuffix();
const schema = `ls_alongside_${sfx}`;
const topic = `alongside-${sfx}`;
let db: pg.Client;

const props = (name: string): Record<string, string> => ({
  'lookup.connection.url': requireEnv('PG_URL'),
  'lookup.table': `${schema}.item`,
  'lookup.key.columns': 'id',
  'entity.name': 'item',
  'destination.type': 'jdbc',
  'destination.name': name,
  'destination.table': `${schema}.${name}_out`,
  'ledger.table': `${schema}.ledger`,
  'park.table': `${schema}.park`,
});

async function task(name: string, wrap?: (d: Destination) => Destination): Promise<LookupSinkTask> {
  const t = new LookupSinkTask(wrap ? { wrapDestination: wrap } : {});
  t.initialize(testContext({ dlq: [] }));
  await t.start(props(name));
  return t;
}

async function out(name: string): Promise<Map<number, string>> {
  const r = await db.query(`SELECT id, erpstream_version::text AS v FROM ${schema}.${name}_out`);
  return new Map(r.rows.map((x: { id: number; v: string }) => [x.id, x.v]));
}

async function ledger(name: string): Promise<Map<string, { version: string; targets: string | null }>> {
  const r = await db.query(
    `SELECT entity_id, version::text AS v, targets FROM ${schema}.ledger WHERE destination = $1`,
    [name],
  );
  return new Map(
    r.rows.map((x: { entity_id: string; v: string; targets: string | null }) => [
      x.entity_id,
      { version: x.v, targets: x.targets },
    ]),
  );
}

async function outTable(name: string): Promise<void> {
  await db.query(
    `CREATE TABLE ${schema}.${name}_out (id int PRIMARY KEY, title text, erpstream_version numeric(20,0))`,
  );
}

const records = (ids: readonly number[], version: (id: number) => bigint, from = 0) =>
  ids.map((id, i) => sinkRecord({ topic, offset: BigInt(from + i), key: { id }, version: version(id) }));

beforeAll(async () => {
  db = new pg.Client({ connectionString: requireEnv('PG_URL') });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.item (id int PRIMARY KEY, title text NOT NULL)`);
  await db.query(`INSERT INTO ${schema}.item SELECT g, 'title ' || g FROM generate_series(1, 400) g`);
});

afterAll(async () => {
  await db.query(`DROP SCHEMA ${schema} CASCADE`);
  await db.end();
});

describe('LookupSink: a jdbc delivery committed with its ledger entries', () => {
  it('a failure in the ledger write leaves no delivered row, and a failure in the delivery no ledger entry', async () => {
    for (const [name, failing] of [
      ['ledgerfails', 'ledger'],
      ['outfails', 'out'],
    ] as const) {
      await outTable(name);
      // The ledger is created by the first task: start one to create it before the trigger goes on.
      await (await task(name)).stop();
      const table = failing === 'ledger' ? `${schema}.ledger` : `${schema}.${name}_out`;
      const column = failing === 'ledger' ? 'entity_id' : 'id::text';
      await db.query(
        `CREATE OR REPLACE FUNCTION ${schema}.refuse_${name}() RETURNS trigger LANGUAGE plpgsql AS $$ ` +
          `BEGIN IF NEW.${column.replace('::text', '')}::text = '17' THEN RAISE EXCEPTION 'refused 17'; END IF; RETURN NEW; END $$`,
      );
      await db.query(
        `CREATE TRIGGER refuse_${name} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${schema}.refuse_${name}()`,
      );
      const ids = Array.from({ length: 40 }, (_, i) => i + 1);
      const t = await task(name);
      await t.put(records(ids, () => 5n)).catch(() => {});
      await expect(t.flush(), failing).rejects.toThrow(/refused 17/);
      await t.stop();
      expect((await out(name)).size, `${failing} failed: no row of the batch is delivered`).toBe(0);
      expect((await ledger(name)).size, `${failing} failed: no entry (nor intent) of the batch is written`).toBe(0);

      // Fixed, the batch consumed again is delivered whole, at its versions.
      await db.query(`DROP TRIGGER refuse_${name} ON ${table}`);
      const again = await task(name);
      await again.put(records(ids, () => 5n));
      await again.flush();
      await again.stop();
      const delivered = await out(name);
      expect([...delivered.keys()].sort((a, b) => a - b)).toEqual(ids);
      expect(new Set(delivered.values())).toEqual(new Set(['5']));
      const entries = await ledger(name);
      expect(entries.size).toBe(40);
      for (const e of entries.values()) {
        expect(e.version).toBe('5');
        expect(e.targets, 'no target left at an unknown version').toBe(`[["${schema}.${name}_out",null,"5"]]`);
      }
    }
  });

  it('a crash after the commit, before the offsets: the batch consumed again sends nothing twice', async () => {
    const name = 'crashed';
    await outTable(name);
    const ids = Array.from({ length: 60 }, (_, i) => i + 101);
    const killed = await task(name, (d) => {
      const r = recording([])(d);
      return {
        ...r,
        async deliver(items, alongside) {
          const refused = await r.deliver(items, alongside);
          throw new Error(`killed after the commit (${refused.length} refused)`);
        },
      };
    });
    await killed.put(records(ids, (id) => BigInt(id))).catch(() => {});
    await expect(killed.flush()).rejects.toThrow(/killed/);
    const committable = await killed.preCommit(new Map([[{ topic, partition: 0 }, 60n]])).then(
      (m) => [...m.values()].map(String),
      (e: unknown) => (e as Error).message,
    );
    expect(committable, 'no offset of the batch is committable').not.toContain('60');
    await killed.stop();
    expect((await out(name)).size).toBe(60);

    const log: DeliveryEvent[] = [];
    const restarted = await task(name, recording(log));
    // Consumed again, with a newer change of one entity behind it.
    await restarted.put([...records(ids, (id) => BigInt(id)), ...records([101], () => 1000n, 60)]);
    await restarted.flush();
    await restarted.stop();
    expect(log.map((e) => `${e.entityId}@${e.version}`)).toEqual(['101@1000']);
    const entries = await ledger(name);
    expect(entries.get('101')?.version).toBe('1000');
    expect(entries.get('160')?.version).toBe('160');
    for (const e of entries.values()) expect(e.targets).not.toMatch(/"-1"/);
  });

  it('two tasks delivering the same entities in opposite orders at once neither deadlock nor go backwards', async () => {
    const name = 'racing';
    await outTable(name);
    const ids = Array.from({ length: 300 }, (_, i) => i + 1);
    await raceInOppositeOrders([await task(name), await task(name)], ids, records, async (round, want) => {
      const delivered = await out(name);
      const entries = await ledger(name);
      for (const id of ids) {
        expect(delivered.get(id), `round ${round}: row ${id}`).toBe(want);
        expect(entries.get(String(id))?.version, `round ${round}: entry ${id}`).toBe(want);
      }
    });
  });
});

describe('LookupSink ledger: a batch read by ids', () => {
  // PostgreSQL reads a batch with an index probe per id (the plan must not depend on the table's statistics);
  // MariaDB with an IN-list. Either way: exactly the entries of this destination and entity, awkward ids included.
  for (const [kind, env] of [
    ['PostgreSQL', 'PG_URL'],
    ['MariaDB', 'MYSQL_URL'],
  ] as const) {
    it(`${kind}: returns each stored entry once, of this destination and entity only`, async () => {
      const client = await openSqlClient({ url: requireEnv(env), user: null, password: null, urlKey: 'url' });
      const table = kind === 'PostgreSQL' ? `${schema}.read_ledger` : `read_ledger_${sfx}`;
      const ledger = new DeliveryLedger(client, table);
      try {
        await ledger.init();
        const awkward = ['a"b', 'c\\d', '{x,y}', 'NULL', '', ' lead', 'ü-é', "o'q"];
        const ids = [...awkward, ...Array.from({ length: 1200 }, (_, i) => String(i))];
        const write = (dest: string, entity: string, version: bigint) =>
          ledger.record(
            dest,
            entity,
            ids.map((id) => ({
              entityId: id,
              ...entryOf(version, [{ target: 't', deliveredKey: null, version }], false),
            })),
          );
        await write('d1', 'e1', 7n);
        await write('d2', 'e1', 8n);
        await write('d1', 'e2', 9n);
        const asked = [...awkward, '5', '5', '1199', 'absent', '1200', '"', '\\'];
        const got = await ledger.get('d1', 'e1', asked);
        expect([...got.keys()].sort()).toEqual([...awkward, '5', '1199'].sort());
        for (const e of got.values()) expect(e.version).toBe(7n);
      } finally {
        await client.query(`DROP TABLE IF EXISTS ${client.quote(table)}`);
        await client.close();
      }
    });
  }
});

describe('LookupSink park: removing released records', () => {
  // PostgreSQL deletes what an index probe per key finds (the OR-list scanned a park without statistics whole);
  // MariaDB keeps the OR-list. Either way: a key's row goes only at or below the given version, nothing else goes.
  for (const [kind, env] of [
    ['PostgreSQL', 'PG_URL'],
    ['MariaDB', 'MYSQL_URL'],
  ] as const) {
    it(`${kind}: removes each key at or below its version, keeps newer versions and other parks; wakes its own waiters`, async () => {
      const client = await openSqlClient({ url: requireEnv(env), user: null, password: null, urlKey: 'url' });
      const table = kind === 'PostgreSQL' ? `${schema}.rm_park` : `rm_park_${sfx}`;
      const parks = [new ParkStore(client, table, 'd1', 'e1'), new ParkStore(client, table, 'd2', 'e1')];
      const [mine, other] = parks as [ParkStore, ParkStore];
      try {
        await mine.init();
        const awkward = ['a"b', 'c\\d', '{x,y}', 'NULL', '', "o'q"];
        const ids = [...awkward, ...Array.from({ length: 700 }, (_, i) => String(i))];
        const row = (id: string, version: bigint) => ({
          entityId: id,
          version,
          record: '{}',
          reason: 'waiting',
          waitingOn: null,
          firstParkedAt: 1,
          nextCheckAt: 2,
          attempts: 0,
        });
        for (const p of parks) await p.put(ids.map((id) => row(id, 10n)));
        // Below the parked version: stays. At it or above: goes. Twice the same key, an absent key: no harm.
        const asked = [
          ...awkward.map((id) => ({ entityId: id, version: 10n })),
          ...Array.from({ length: 650 }, (_, i) => ({ entityId: String(i), version: i % 2 === 0 ? 11n : 9n })),
          { entityId: '0', version: 10n },
          { entityId: 'absent', version: 99n },
        ];
        const removed = await mine.remove(asked);
        const left = new Set((await mine.get(ids)).keys());
        const expected = ids.filter((id) => !awkward.includes(id) && !(Number(id) < 650 && Number(id) % 2 === 0));
        expect([...left].sort()).toEqual(expected.sort());
        expect(removed).toBe(ids.length - expected.length);
        expect((await other.get(ids)).size, 'another destination keeps its park').toBe(ids.length);

        // Waiting on a parent: several records may wait on one key; another park's records on it are not ours.
        const waiting = (id: string, on: string) => ({ ...row(id, 20n), waitingOn: on });
        await mine.put([waiting('w1', 'p|person|1'), waiting('w2', 'p|person|1'), waiting('w3', 'p|person|"2"')]);
        await other.put([waiting('w1', 'p|person|1'), waiting('w4', 'p|person|3')]);
        const woken = await mine.waitingFor(['p|person|1', 'p|person|"2"', 'p|person|3', 'p|person|1', 'absent']);
        expect(woken.map((p) => p.entityId).sort()).toEqual(['w1', 'w2', 'w3']);
      } finally {
        await client.query(`DROP TABLE IF EXISTS ${client.quote(table)}`);
        await client.close();
      }
    });
  }
});

describe('LookupSink: a delivery committed with its ledger entries overtaking an older ledger write', () => {
  // Pipelined, a batch is sent while the previous one's record() still runs. A batch without deliveries (a
  // withdrawal) writes its ledger entry there; the next batch, delivering the same entity again at the same version
  // (the registration came back), commits its entry with its rows. Landing first, it was overwritten by the
  // withdrawal's older entry: the ledger no longer listed the table that holds the document, and the next
  // withdrawal left it with the customer.
  const docs = registeredDocuments(`ls_overtake_${sfx}`);
  let offset = 0n;
  const next = () => offset++;

  it('the ledger lists the table again, and the next withdrawal removes the row', async () => {
    await docs.create(db);
    try {
      await db.query(
        `CREATE TABLE ${docs.schema}.out_c1 (document_id int PRIMARY KEY, title text, domain text, erpstream_version numeric(20,0))`,
      );
      await db.query(`INSERT INTO ${docs.schema}.document VALUES (1, 'one')`);
      await db.query(`INSERT INTO ${docs.schema}.document_domain VALUES (1, 'c1')`);
      const t = new LookupSinkTask();
      t.initialize(testContext({ dlq: [] }));
      await t.start({
        'connector.class': 'LookupSink',
        topics: `${docs.docTopic},${docs.regTopic}`,
        ...docs.lookupProps(),
        'destination.type': 'jdbc',
        'destination.name': 'overtake',
        'destination.table': `${docs.schema}.out_\${domain}`,
      });
      const held = async () =>
        (await db.query(`SELECT document_id FROM ${docs.schema}.out_c1`)).rows.map(
          (r: { document_id: number }) => r.document_id,
        );
      const listed = async () => {
        const r = await db.query(`SELECT targets FROM ${docs.schema}.ledger WHERE entity_id = '1'`);
        return (JSON.parse(String(r.rows[0]?.targets ?? '[]')) as string[][]).map((x) => x[0]);
      };
      const record = DeliveryLedger.prototype.record;
      try {
        await t.put([
          sinkRecord({ topic: docs.docTopic, offset: next(), key: 1, version: 1001n }),
          docs.registered(next(), 1, 'c1'),
        ]);
        await t.flush();
        expect(await held()).toEqual([1]);
        // Ledger writes that come in record() land late (a slow ledger database).
        DeliveryLedger.prototype.record = async function (...args) {
          await new Promise((r) => setTimeout(r, 400));
          return record.apply(this, args);
        };
        await db.query(`DELETE FROM ${docs.schema}.document_domain WHERE document_id = 1`);
        await t.put(docs.unregistered(next, 1, 'c1'));
        await db.query(`INSERT INTO ${docs.schema}.document_domain VALUES (1, 'c1')`);
        await t.put([docs.registered(next(), 1, 'c1')]);
        await t.flush();
        expect(await held()).toEqual([1]);
        expect(await listed(), 'the ledger lists the table holding the document').toEqual([`${docs.schema}.out_c1`]);
        // Withdrawn again: the row must go.
        DeliveryLedger.prototype.record = record;
        await db.query(`DELETE FROM ${docs.schema}.document_domain WHERE document_id = 1`);
        await t.put(docs.unregistered(next, 1, 'c1'));
        await t.flush();
        expect(await held(), 'the customer no longer holds the document').toEqual([]);
      } finally {
        DeliveryLedger.prototype.record = record;
        await t.stop();
      }
    } finally {
      await docs.drop(db);
    }
  });
});

describe('LookupSink on MariaDB: a jdbc delivery committed with its ledger entries (one transaction)', () => {
  it('a failure in either write leaves neither; the batch consumed again is delivered whole', async () => {
    const my = await mysql.createConnection({ uri: requireEnv('MYSQL_URL') });
    const t = (name: string) => `lsa_${name}_${sfx}`.replace(/[^a-z0-9_]/gi, '_');
    try {
      await my.query(`CREATE TABLE ${t('item')} (id INT PRIMARY KEY, title VARCHAR(40) NOT NULL)`);
      await my.query(
        `INSERT INTO ${t('item')} VALUES ${Array.from({ length: 30 }, (_, i) => `(${i + 1}, 'title ${i + 1}')`).join(', ')}`,
      );
      for (const failing of ['ledger', 'out'] as const) {
        const name = `my_${failing}`;
        await my.query(
          `CREATE TABLE ${t(name)} (id INT PRIMARY KEY, title VARCHAR(40), erpstream_version DECIMAL(20,0))`,
        );
        const p = {
          'lookup.connection.url': requireEnv('MYSQL_URL'),
          'lookup.table': t('item'),
          'lookup.key.columns': 'id',
          'entity.name': 'item',
          'destination.type': 'jdbc',
          'destination.name': name,
          'destination.table': t(name),
          'ledger.table': t('ledger'),
          'park.table': t('park'),
        };
        const start = async () => {
          const task = new LookupSinkTask();
          task.initialize(testContext({ dlq: [] }));
          await task.start(p);
          return task;
        };
        await (await start()).stop(); // creates the ledger
        const table = failing === 'ledger' ? t('ledger') : t(name);
        const column = failing === 'ledger' ? 'entity_id' : 'id';
        await my.query(
          `CREATE TRIGGER ${t(`refuse_${failing}`)} BEFORE INSERT ON ${table} FOR EACH ROW ` +
            `BEGIN IF NEW.${column} = '17' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused 17'; END IF; END`,
        );
        const ids = Array.from({ length: 30 }, (_, i) => i + 1);
        const first = await start();
        await first.put(records(ids, () => 5n)).catch(() => {});
        await expect(first.flush(), failing).rejects.toThrow(/refused 17/);
        await first.stop();
        const [outRows] = await my.query(`SELECT COUNT(*) AS n FROM ${t(name)}`);
        const [ledgerRows] = await my.query(`SELECT COUNT(*) AS n FROM ${t('ledger')} WHERE destination = ?`, [name]);
        expect(Number((outRows as Array<{ n: number }>)[0]!.n), `${failing} failed: no row delivered`).toBe(0);
        expect(Number((ledgerRows as Array<{ n: number }>)[0]!.n), `${failing} failed: no entry written`).toBe(0);
        await my.query(`DROP TRIGGER ${t(`refuse_${failing}`)}`);
        const again = await start();
        await again.put(records(ids, () => 5n));
        await again.flush();
        await again.stop();
        const [out2] = await my.query(`SELECT COUNT(*) AS n FROM ${t(name)} WHERE erpstream_version = 5`);
        const [led2] = await my.query(
          `SELECT COUNT(*) AS n FROM ${t('ledger')} WHERE destination = ? AND version = 5 AND targets NOT LIKE '%"-1"%'`,
          [name],
        );
        expect(Number((out2 as Array<{ n: number }>)[0]!.n)).toBe(30);
        expect(Number((led2 as Array<{ n: number }>)[0]!.n)).toBe(30);
      }
    } finally {
      for (const name of ['item', 'my_ledger', 'my_out', 'ledger', 'park'])
        await my.query(`DROP TABLE IF EXISTS ${t(name)}`);
      await my.end();
    }
  });
});

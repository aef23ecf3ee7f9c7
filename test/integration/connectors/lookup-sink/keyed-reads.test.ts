import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryLedger, entryOf } from '../../../../connectors/lookup-sink/ledger.js';
import { type ParkedRecord, ParkStore } from '../../../../connectors/lookup-sink/park-store.js';
import { type SqlClient, openSqlClient } from '../../../../connectors/lookup-sink/sql/client.js';
import { requireEnv, uniqueSuffix } from '../../env.js';

// The ledger's and the park's reads and deletes by a batch of ids (selectByKeys; on PostgreSQL an index probe per id
// through an unnested array, the park's removals and wake-ups by tuple id): ids an array literal must escape, ids
// repeated and absent, and more ids than one statement takes.
// (MariaDB's default collation ignores case: 'NULL' and 'null' would be one id there.)
const COMMON = ['a"b', "o'q", 'back\\slash', 'tail\\', 'com,ma', '{brace}', '}', 'NULL', 'ü-日本-🙂', ' lead', ''];
const MANY = Array.from({ length: 10_050 }, (_, i) => `n${i}`);
const parked = (entityId: string, version: bigint, waitingOn: string | null = null): ParkedRecord => ({
  entityId,
  version,
  record: '{}',
  reason: 'waiting: x',
  waitingOn,
  firstParkedAt: 1,
  nextCheckAt: 2,
  attempts: 0,
});

for (const [name, env] of [
  ['PostgreSQL', 'PG_URL'],
  ['MariaDB', 'MYSQL_URL'],
] as const) {
  describe(`keyed reads and removals (${name})`, () => {
    const SPECIAL = name === 'PostgreSQL' ? [...COMMON, 'null'] : COMMON;
    let db: SqlClient;
    const sfx = uniqueSuffix().replace(/[^a-z0-9]/gi, '_');
    const ledgerTable = `kr_l_${sfx}`.slice(0, 40);
    const parkTable = `kr_p_${sfx}`.slice(0, 40);
    const freshPark = `kr_f_${sfx}`.slice(0, 40);
    beforeAll(async () => {
      db = await openSqlClient({ url: requireEnv(env), user: null, password: null, urlKey: 'url' });
    });
    afterAll(async () => {
      for (const t of [ledgerTable, parkTable, freshPark]) await db.query(`DROP TABLE IF EXISTS ${db.quote(t)}`);
      await db.close();
    });

    it('find exactly the ids asked for, however they are spelled', { timeout: 120_000 }, async () => {
      const ledger = new DeliveryLedger(db, ledgerTable);
      await ledger.init();
      const ids = [...SPECIAL, ...MANY];
      const write = (entityId: string, version: bigint) => ({
        entityId,
        ...entryOf(version, [{ target: 't', deliveredKey: null, version }], false),
      });
      await ledger.record(
        'd',
        'e',
        ids.map((id, i) => write(id, BigInt(i + 1))),
      );
      // Another destination's entries of the same ids are never read.
      await ledger.record(
        'other',
        'e',
        SPECIAL.map((id) => write(id, 999n)),
      );
      const asked = [...ids, ...SPECIAL, 'absent', 'a"', 'b', '{', 'NUL'];
      const got = await ledger.get('d', 'e', asked);
      expect(got.size).toBe(ids.length);
      for (const [i, id] of ids.entries()) expect(got.get(id)?.version, id).toBe(BigInt(i + 1));

      const park = new ParkStore(db, parkTable, 'd', 'e');
      await park.init();
      await park.put(ids.map((id, i) => parked(id, 10n, i < SPECIAL.length ? `dep|${id}` : null)));
      await new ParkStore(db, parkTable, 'other', 'e').put(SPECIAL.map((id) => parked(id, 1n, `dep|${id}`)));
      const p = await park.get(asked);
      expect([...p.keys()].sort()).toEqual([...ids].sort());
      const waiting = await park.waitingFor([...SPECIAL.map((id) => `dep|${id}`), 'dep|absent', 'dep|a"b']);
      expect(waiting.map((w) => w.entityId).sort()).toEqual([...SPECIAL].sort());
      // A removal at a lower version than parked leaves the row; at its version or above removes it.
      const removed = await park.remove([
        ...SPECIAL.map((entityId, i) => ({ entityId, version: i % 2 === 0 ? 9n : 10n })),
        ...MANY.map((entityId) => ({ entityId, version: 11n })),
        { entityId: 'absent', version: 99n },
        { entityId: SPECIAL[1]!, version: 10n },
      ]);
      const kept = SPECIAL.filter((_, i) => i % 2 === 0);
      expect(removed).toBe(ids.length - kept.length);
      expect([...(await park.get(ids)).keys()].sort()).toEqual([...kept].sort());
      expect((await new ParkStore(db, parkTable, 'other', 'e').get(SPECIAL)).size).toBe(SPECIAL.length);
    });

    // A park fills up before PostgreSQL has statistics of it (autovacuum analyzes it within a minute or so): with
    // every index leading with (destination, entity) costed at one row, the probe per id read the whole park through
    // the `age` index (11 s for these 10,050 ids, 5 s for their removal; quadratic in the park).
    it('reads and removes by id through the key, in a park without statistics', { timeout: 120_000 }, async () => {
      const park = new ParkStore(db, freshPark, 'd', 'e');
      await park.init();
      await park.put(MANY.map((entityId) => parked(entityId, 10n)));
      let t0 = Date.now();
      expect((await park.get(MANY)).size).toBe(MANY.length);
      const read = Date.now() - t0;
      t0 = Date.now();
      expect(await park.remove(MANY.map((entityId) => ({ entityId, version: 10n })))).toBe(MANY.length);
      const removal = Date.now() - t0;
      expect({ read: read < 2_000, removal: removal < 2_000 }, `read ${read} ms, removal ${removal} ms`).toEqual({
        read: true,
        removal: true,
      });
    });

    // Deleted by tuple id on PostgreSQL: a newer version parked by another connection while the removal waits for
    // its row lock is a new tuple, and stays.
    it('leaves a newer version parked while the removal waited', { timeout: 60_000 }, async () => {
      const park = new ParkStore(db, freshPark, 'd', 'e');
      const row = (version: bigint) => parked('raced', version);
      await park.put([row(10n)]);
      let removal: Promise<number> | null = null;
      await db.transaction(async (tx) => {
        await new ParkStore(tx, freshPark, 'd', 'e').put([row(20n)]);
        removal = park.remove([{ entityId: 'raced', version: 10n }]);
        await new Promise((r) => setTimeout(r, 300));
      });
      expect(await removal).toBe(0);
      expect((await park.get(['raced'])).get('raced')?.version).toBe(20n);
    });
  });
}

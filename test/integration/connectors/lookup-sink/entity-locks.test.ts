import { afterAll, describe, expect, it } from 'vitest';
import { EntityLocks } from '../../../../connectors/lookup-sink/entity-locks.js';
import { type SqlClient, openSqlClient } from '../../../../connectors/lookup-sink/sql/client.js';
import { requireEnv, uniqueSuffix } from '../../env.js';

// The per-entity locks that keep two lookup sink tasks from deciding the same entity at once (kafka and http
// destinations with tasks.max > 1), on the real databases: a second holder of an id waits for the first, a
// background re-check takes only free ids, other ids and other scopes never wait, and many holders of overlapping
// sets in random order neither deadlock nor overlap.
const scope = `locks-${uniqueSuffix()}`;

for (const [name, env] of [
  ['PostgreSQL', 'PG_URL'],
  ['MariaDB', 'MYSQL_URL'],
] as const) {
  describe(`EntityLocks (${name})`, () => {
    const clients: SqlClient[] = [];
    const open = async () => {
      const c = await openSqlClient({
        url: requireEnv(env),
        user: null,
        password: null,
        urlKey: 'ledger.connection.url',
      });
      clients.push(c);
      return new EntityLocks(c, scope);
    };
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close()));
    });

    it('a second task waits for an id the first holds, and takes it once given back', async () => {
      const a = await open();
      const b = await open();
      const first = await a.acquire(['1', '2']);
      expect([...first.ids].sort()).toEqual(['1', '2']);
      let second = false;
      const waiting = b.acquire(['3', '2']).then((h) => {
        second = true;
        return h;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(second).toBe(false);
      // Another id and the same id of another scope are free.
      const other = await b.acquire(['4']);
      const otherScope = await new EntityLocks(clients[0]!, `${scope}-x`).acquire(['2']);
      await other.release();
      await otherScope.release();
      await first.release();
      const got = await waiting;
      expect(second).toBe(true);
      expect([...got.ids].sort()).toEqual(['2', '3']);
      await got.release();
      await got.release(); // idempotent
    });

    it('without waiting, only the free ids are taken', async () => {
      const a = await open();
      const b = await open();
      const held = await a.acquire(['10', '11']);
      const some = await b.acquire(['11', '12', '13'], { wait: false });
      expect([...some.ids].sort()).toEqual(['12', '13']);
      await some.release();
      await held.release();
      const all = await b.acquire(['11', '12'], { wait: false });
      expect([...all.ids].sort()).toEqual(['11', '12']);
      await all.release();
    });

    it('holders of overlapping ids in any order never hold the same id at once and never deadlock', async () => {
      const lockers = [await open(), await open(), await open()];
      const inside = new Map<string, number>();
      const overlaps: string[] = [];
      let rounds = 0;
      await Promise.all(
        lockers.map(async (l, n) => {
          for (let i = 0; i < 15; i++) {
            const ids = Array.from({ length: 1 + ((i * 7 + n) % 4) }, (_, j) => String((i * 3 + j * 5 + n) % 7));
            const h = await l.acquire(ids.reverse());
            for (const id of h.ids) {
              if ((inside.get(id) ?? 0) > 0) overlaps.push(id);
              inside.set(id, (inside.get(id) ?? 0) + 1);
            }
            await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 5)));
            for (const id of h.ids) inside.set(id, inside.get(id)! - 1);
            await h.release();
            rounds++;
          }
        }),
      );
      expect({ rounds, overlaps }).toEqual({ rounds: 45, overlaps: [] });
    }, 60_000);
  });
}

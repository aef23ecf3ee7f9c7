import { afterAll, describe, expect, it } from 'vitest';
import { RedeliveryQueue } from '../../../../connectors/lookup-sink/redelivery.js';
import { type SqlClient, openSqlClient } from '../../../../connectors/lookup-sink/sql/client.js';
import { requireEnv, uniqueSuffix } from '../../env.js';

// Two repairs of one customer side by side (two CLI users, a retry beside a slow first try) queue overlapping
// entities: each may find an entity absent and insert it. The later insert must not fail the request (it failed with
// "duplicate key value violates unique constraint … _redelivery_pkey", a 500 to the user); the entity is queued once,
// pending for one of the requests, and each request's counts add up.
for (const [name, env] of [
  ['PostgreSQL', 'PG_URL'],
  ['MariaDB', 'MYSQL_URL'],
] as const) {
  describe(`RedeliveryQueue.submit racing itself (${name})`, () => {
    const clients: SqlClient[] = [];
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close()));
    });
    const open = async () => {
      const c = await openSqlClient({
        url: requireEnv(env),
        user: null,
        password: null,
        urlKey: 'ledger.connection.url',
      });
      clients.push(c);
      return c;
    };

    it('queues each entity once and never fails either request', async () => {
      const table = `rq_${uniqueSuffix().replace(/[^a-z0-9]/gi, '_')}`.slice(0, 40);
      const a = new RedeliveryQueue(await open(), table);
      const b = new RedeliveryQueue(await open(), table);
      await a.init();
      let seed = 7;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      for (let round = 0; round < 12; round++) {
        const connector = `c${round}`;
        // Overlapping random sets, sometimes identical, sometimes in batches of one (the per-row path).
        const ids = (n: number) => Array.from({ length: n }, () => String(rand(60)));
        const itemsA = ids(40).map((entityId) => ({ entityId, action: 'deliver' as const }));
        const itemsB = ids(40).map((entityId) => ({ entityId, action: 'deliver' as const }));
        const [ra, rb] = await Promise.all([
          a.submit(connector, `repair-a-${round}`, null, [itemsA]),
          b.submit(connector, `repair-b-${round}`, null, [itemsB]),
        ]);
        const union = new Set([...itemsA, ...itemsB].map((i) => i.entityId));
        const distinctA = new Set(itemsA.map((i) => i.entityId)).size;
        const distinctB = new Set(itemsB.map((i) => i.entityId)).size;
        expect(ra.queued + ra.alreadyQueued).toBe(distinctA);
        expect(rb.queued + rb.alreadyQueued).toBe(distinctB);
        expect(ra.queued + rb.queued).toBe(union.size);
        const rows = await clients[0]!.query(
          `SELECT entity_id, request_id FROM ${clients[0]!.quote(table)} WHERE connector = ? AND state = ?`,
          [connector, 'pending'],
        );
        expect(new Set(rows.map((r) => String(r.entity_id)))).toEqual(union);
        expect(rows.length).toBe(union.size);
      }
    });
  });
}

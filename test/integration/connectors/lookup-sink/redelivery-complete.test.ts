import { afterAll, describe, expect, it } from 'vitest';
import { RedeliveryQueue, slotsOf } from '../../../../connectors/lookup-sink/redelivery.js';
import { type SqlClient, openSqlClient } from '../../../../connectors/lookup-sink/sql/client.js';
import { requireEnv, uniqueSuffix } from '../../env.js';

// A task finishing an item late (a slow batch of an older repair) must not mark done the same entity queued again by
// a newer repair: the newer one would report it done without ever sending it.
for (const [name, env] of [
  ['PostgreSQL', 'PG_URL'],
  ['MariaDB', 'MYSQL_URL'],
] as const) {
  describe(`RedeliveryQueue.complete (${name})`, () => {
    let client: SqlClient;
    const table = `rqc_${uniqueSuffix().replace(/[^a-z0-9]/gi, '_')}`.slice(0, 40);
    afterAll(async () => {
      await client.query(`DROP TABLE IF EXISTS ${client.quote(table)}`);
      await client.query(`DROP TABLE IF EXISTS ${client.quote(`${table}_requests`)}`);
      await client.close();
    });

    it('marks only the items the finishing request still holds', async () => {
      client = await openSqlClient({ url: requireEnv(env), user: null, password: null, urlKey: 'url' });
      const queue = new RedeliveryQueue(client, table);
      await queue.init();
      const ids = ['1', '2', '3', 'a"b', "o'q"];
      const items = (xs: string[]) => [xs.map((entityId) => ({ entityId, action: 'deliver' as const }))];
      const a = await queue.submit('c', 'repair-a', null, items(ids));
      // Another connector's queue holds the same ids: never touched.
      await queue.submit('other', 'repair-o', null, items(ids));
      const taken = await queue.take('c', slotsOf(0, 1), 100);
      expect(taken.map((t) => t.requestId)).toEqual(ids.map(() => a.requestId));
      const byId = new Map(taken.map((t) => [t.entityId, t]));
      await queue.complete('c', [
        { item: byId.get('1')!, outcome: 'delivered' },
        { item: byId.get('2')!, outcome: 'delivered' },
      ]);
      // Done by the older repair, 2 is queued again by a newer one; 3 is still pending for the older one.
      const b = await queue.submit('c', 'repair-b', null, items(['2', '3']));
      expect(b).toMatchObject({ queued: 1, alreadyQueued: 1 });
      // The older repair's task finishes everything it took, 2 again among them (late).
      await queue.complete(
        'c',
        taken.map((item) => ({ item, outcome: 'delivered' as const })),
      );
      const pb = await queue.progress(b.requestId);
      expect(pb.pending, 'the newer repair still has 2 to send').toBe(1);
      const pa = await queue.progress(a.requestId);
      expect(pa.pending).toBe(0);
      const again = await queue.take('c', slotsOf(0, 1), 100);
      expect(again.map((t) => `${t.entityId}:${t.requestId === b.requestId ? 'b' : 'a'}`)).toEqual(['2:b']);
      expect((await queue.take('other', slotsOf(0, 1), 100)).length, 'the other connector keeps its items').toBe(5);
    });
  });
}

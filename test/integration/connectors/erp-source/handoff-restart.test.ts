import { afterAll, describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../../../runtime/api/index.js';
import {
  CHANGE_TABLE,
  type DbFixture,
  TaskHarness,
  envelope,
  events,
  header,
  keyOf,
  mysqlFixture,
  pgFixture,
  sourceProps,
} from './harness.js';

/**
 * Issue 12: "a change the snapshot row already holds is not streamed again below the row's version" must hold across
 * a restart inside the hand-off window (after the snapshot's offsets were committed, before the stream passed the
 * changes its hand-off left to it), and what it keeps must go once the stream passed them.
 *
 * The situation: a change row of key 2 whose sequence was taken before another transaction changed key 2 and
 * committed (an application writing its own change rows, so the number is not taken under the row lock). The
 * snapshot sees the later change (key 2 gets its version) but not the earlier-numbered one, which the stream
 * reads after the hand-off: emitting it would put a lower version after the snapshot row's.
 */
function defineHandoffRestart(name: string, fixture: () => Promise<DbFixture>): void {
  describe(`ErpSource on ${name}: a restart inside the snapshot hand-off window`, () => {
    let db: DbFixture | undefined;
    const harnesses: TaskHarness[] = [];
    afterAll(async () => {
      for (const h of harnesses) await h.stop().catch(() => {});
      await db?.close();
    });

    it('never streams a key below its snapshot version, and forgets the versions once the stream passed them', async () => {
      db = await fixture();
      const pg = db.dialect === 'postgresql';
      const q = (t: string) => (pg ? `"${db!.schema}"."${t}"` : `\`${db!.schema}\`.\`${t}\``);
      await db.createCaptured('item', pg ? 'id integer PRIMARY KEY, v integer' : 'id int PRIMARY KEY, v int');
      for (const id of [1, 2, 3]) await db.exec(`INSERT INTO ${q('item')} (id, v) VALUES (${id}, 0)`);

      // Y takes a change sequence for key 2 and stays open; X changes key 2 and commits with a higher sequence.
      const y = await db.session();
      await y.exec('BEGIN');
      await y.exec(`INSERT INTO ${q(CHANGE_TABLE)} (table_name, record_id, op) VALUES ('${db.schema}.item', '2', 'U')`);
      await db.exec(`UPDATE ${q('item')} SET v = 1 WHERE id = 2`);

      const props = sourceProps(db, { 'table.include.list': `${db.schema}\\.item`, 'poll.interval.ms': '20' });
      const first = new TaskHarness(props);
      harnesses.push(first);
      await first.start();
      const snapshot = await first.pollUntil((all) => events(all).length >= 3);
      const version = (r: SourceRecord) => BigInt(header(r, 'erpstream.version') as string);
      const row2 = events(snapshot).find((r) => Number(keyOf(r)) === 2)!;
      expect(envelope(row2).op).toBe('r');
      const partition = { server: 'erp', table: `${db.schema}.item` };
      // The stored offset keeps key 2's version: the stream has not passed Y's number.
      const stored = (await first.store.offset(partition)) as { covered?: { keys: Array<[string, string]> } };
      expect(stored.covered?.keys).toEqual([[expect.stringContaining('2'), String(version(row2))]]);

      // Crash inside the hand-off window; Y commits; a new task resumes from the stored offsets.
      await first.stop();
      await y.exec('COMMIT');
      await y.close();
      const second = new TaskHarness(props, first.store);
      harnesses.push(second);
      await second.start();
      const resumed = await second.pollFor(1_500);
      for (const r of events(resumed).filter((e) => Number(keyOf(e)) === 2)) {
        expect(
          version(r),
          `key 2 ${envelope(r).op}@${version(r)} after the snapshot row @${version(row2)}`,
        ).toBeGreaterThan(version(row2));
      }

      // A later change of key 2 is streamed; once the stream passed Y's number, nothing is kept any more.
      await db.exec(`UPDATE ${q('item')} SET v = 2 WHERE id = 2`);
      const later = await second.pollUntil((all) => events(all).some((r) => Number(keyOf(r)) === 2));
      expect(events(later).map((r) => version(r) > version(row2))).not.toContain(false);
      const deadline = Date.now() + 30_000;
      let offset = (await second.store.offset(partition)) as { covered?: unknown };
      while (offset.covered !== undefined && Date.now() < deadline) {
        // Watermark positions let go once every transaction open at the hand-off ended (other sessions' too).
        await db.exec(`UPDATE ${q('item')} SET v = v + 1 WHERE id = 3`);
        await second.pollFor(300);
        offset = (await second.store.offset(partition)) as { covered?: unknown };
      }
      expect(offset.covered).toBeUndefined();
    });
  });
}

defineHandoffRestart('PostgreSQL', () => pgFixture());
defineHandoffRestart('MariaDB', () => mysqlFixture());

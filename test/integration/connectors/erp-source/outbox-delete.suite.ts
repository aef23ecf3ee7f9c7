import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../../../runtime/api/index.js';
import { outboxTableDdl } from '../../../../connectors/erp-source/setup-sql.js';
import { type DbFixture, TaskHarness, header, sourceProps } from './harness.js';

/** outbox.delete.processed against a real database: rows go only after their offsets are committed. */
export function defineOutboxDeleteSuite(name: string, makeFixture: () => Promise<DbFixture>): void {
  describe(`ErpSource outbox.delete.processed on ${name}`, () => {
    let db: DbFixture;
    const harnesses: TaskHarness[] = [];
    const pgLike = () => db.dialect === 'postgresql';
    const q = (t: string) => (pgLike() ? `"${db.schema}"."${t}"` : `\`${db.schema}\`.\`${t}\``);
    const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    const insert = (s: { exec: DbFixture['exec'] }, table: string, n: number) =>
      s.exec(
        pgLike()
          ? `INSERT INTO ${q(table)} (id, aggregatetype, aggregateid, type, payload) VALUES ($1, 'Order', $2, 'E', '{}'::jsonb)`
          : `INSERT INTO ${q(table)} (id, aggregatetype, aggregateid, type, payload) VALUES (?, 'Order', ?, 'E', '{}')`,
        [uuid(n), `o-${n}`],
      );
    const remaining = async (table: string): Promise<number[]> =>
      (await db.exec(`SELECT id FROM ${q(table)} ORDER BY id`)).map((r) => Number(String(r.id).slice(-12)));
    const ids = (records: readonly SourceRecord[]) => records.map((r) => Number(String(header(r, 'id')).slice(-12)));
    const outbox = async (table: string, extra: Record<string, string> = {}): Promise<TaskHarness> => {
      for (const ddl of outboxTableDdl(db.dialect, `${db.schema}.${table}`)) await db.exec(ddl);
      const h = new TaskHarness(
        sourceProps(db, {
          'capture.mode': 'outbox',
          'outbox.table': `${db.schema}.${table}`,
          'outbox.delete.processed': 'true',
          ...extra,
        }),
      );
      harnesses.push(h);
      return h;
    };

    beforeAll(async () => {
      db = await makeFixture();
    });
    afterAll(async () => {
      for (const h of harnesses) await h.stop().catch(() => {});
      await db?.close();
    });

    it('deletes rows only once their offsets are committed, never when they were only polled or acknowledged', async () => {
      const h = await outbox('ob_commit');
      for (let n = 1; n <= 3; n++) await insert(db, 'ob_commit', n);
      await h.start();
      const polled: SourceRecord[] = [];
      while (polled.length < 3) polled.push(...(await h.poll()));
      // The worker calls commit() after an offset flush; nothing of these rows is committed yet.
      await h.task!.commit();
      expect(await remaining('ob_commit')).toEqual([1, 2, 3]);
      // Offsets of the first two only (commit after ack of a prefix).
      await h.ack(polled.slice(0, 2));
      expect(await remaining('ob_commit')).toEqual([3]);
      await h.ack(polled);
      expect(await remaining('ob_commit')).toEqual([]);
      // rows written later follow the same path, a long transaction's row included (inserted before, committed after)
      const open = await db.session();
      try {
        await open.exec(pgLike() ? 'BEGIN' : 'START TRANSACTION');
        await insert(open, 'ob_commit', 4);
        await insert(db, 'ob_commit', 5);
        const mid = await h.pollUntil((all) => all.length >= 1);
        expect(ids(mid)).toEqual([5]);
        await open.exec('COMMIT');
      } finally {
        await open.close();
      }
      expect(await remaining('ob_commit')).toEqual([4]);
      const late = await h.pollUntil((all) => all.length >= 1);
      expect(ids(late)).toEqual([4]);
      expect(await remaining('ob_commit')).toEqual([]);
      await h.stop();
    });

    it('a crash between ack and delete causes at most a duplicate: rows not committed are re-emitted, rows committed but not deleted are deleted at the next start', async () => {
      const h = await outbox('ob_crash', { 'max.batch.size': '2' });
      for (let n = 1; n <= 4; n++) await insert(db, 'ob_crash', n);
      await h.start();
      const first = await h.poll();
      expect(ids(first)).toEqual([1, 2]);
      // offsets committed, then the process dies before commit() deleted anything
      h.store.commit(first);
      const second = await h.poll();
      expect(ids(second)).toEqual([3, 4]);
      // polled (maybe even produced) but the offsets never got committed
      await h.stop();
      expect(await remaining('ob_crash')).toEqual([1, 2, 3, 4]);

      await h.start();
      expect(await remaining('ob_crash')).toEqual([3, 4]); // swept at start: covered by the stored offset
      const again = await h.pollUntil((all) => all.length >= 2);
      expect(ids(again)).toEqual([3, 4]); // the duplicate, same event ids
      expect(again.map((r) => header(r, 'erpstream.event.id'))).toEqual(
        second.map((r) => header(r, 'erpstream.event.id')),
      );
      expect(await remaining('ob_crash')).toEqual([]);
      expect(h.logs.some((l) => /already processed before the restart/.test(l.msg))).toBe(true);
      await h.stop();
    });
  });
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../../../runtime/api/index.js';
import {
  type DbFixture,
  TaskHarness,
  envelope,
  events,
  header,
  keyOf,
  mysqlFixture,
  pgFixture,
  startWatchedConnector,
} from './harness.js';

/**
 * capture.mode=timestamp_incrementing on plain tables (no change table), against the real databases: rows in
 * (updated_at, id) order, the safety lag, and the overlap window that still emits a row whose transaction
 * committed after later rows were read.
 */
for (const [name, makeFixture] of [
  ['PostgreSQL', pgFixture],
  ['MariaDB', mysqlFixture],
] as const) {
  describe(`ErpSource timestamp_incrementing on ${name}`, () => {
    let db: DbFixture;
    const harnesses: TaskHarness[] = [];
    beforeAll(async () => {
      db = await makeFixture();
    });
    afterAll(async () => {
      for (const h of harnesses) await h.stop().catch(() => {});
      await db?.close();
    });
    const pgLike = () => db.dialect === 'postgresql';
    const q = (t: string) => (pgLike() ? `"${db.schema}"."${t}"` : `\`${db.schema}\`.\`${t}\``);
    const ts = () => (pgLike() ? 'timestamp(6)' : 'datetime(6)');
    const nowTs = () => (pgLike() ? `(clock_timestamp() AT TIME ZONE 'UTC')` : 'UTC_TIMESTAMP(6)');
    const harness = (table: string, extra: Record<string, string> = {}) => {
      const h = new TaskHarness({
        'connector.class': 'ErpSource',
        'connection.url': db.url,
        'capture.mode': 'timestamp_incrementing',
        'timestamp.column.name': 'updated_at',
        'incrementing.column.name': 'id',
        'timestamp.delay.interval.ms': '300',
        'timestamp.overlap.window.ms': '20000',
        'topic.prefix': 'erp',
        'table.include.list': `${db.schema}\\.${table}`,
        'poll.interval.ms': '50',
        ...extra,
      });
      harnesses.push(h);
      return h;
    };
    const createTable = (t: string) =>
      db.exec(`CREATE TABLE ${q(t)} (id int PRIMARY KEY, name varchar(40), updated_at ${ts()} NOT NULL)`);
    const ids = (records: SourceRecord[]) => events(records).map((r) => Number(keyOf(r)));

    it('emits existing rows, then inserts and updates in (updated_at, id) order with the timestamp as version', async () => {
      await createTable('item');
      for (let i = 1; i <= 3; i++) {
        await db.exec(`INSERT INTO ${q('item')} VALUES (${i}, 'n${i}', ${nowTs()})`);
      }
      const h = harness('item');
      await h.start();
      const first = await h.pollUntil((all) => events(all).length >= 3);
      expect(ids(first)).toEqual([1, 2, 3]);
      const e = envelope(events(first)[0]!);
      expect(e.after!.get('name')).toBe('n1');
      expect(e.source.get('table')).toBe('item');
      const version = String(header(events(first)[0]!, 'erpstream.version'));
      expect(version).toMatch(/^\d{16}$/); // µs since the epoch
      expect(String(header(events(first)[0]!, 'erpstream.event.id'))).toBe(
        `${String(e.source.get('db'))}:${db.schema}.item:${version}:1`,
      );

      await db.exec(`UPDATE ${q('item')} SET name = 'n2b', updated_at = ${nowTs()} WHERE id = 2`);
      await db.exec(`INSERT INTO ${q('item')} VALUES (4, 'n4', ${nowTs()})`);
      const next = await h.pollUntil((all) => events(all).length >= 2);
      expect(ids(next)).toEqual([2, 4]);
      expect(envelope(events(next)[0]!).after!.get('name')).toBe('n2b');
      expect(BigInt(String(header(events(next)[0]!, 'erpstream.version')))).toBeGreaterThan(BigInt(version));
      // Nothing is emitted twice while the task runs (the overlap window is deduplicated).
      expect(ids(await h.pollFor(800))).toEqual([]);
    });

    it('still emits a row whose transaction commits after later rows were read (within the overlap window)', async () => {
      await createTable('late');
      const h = harness('late');
      await h.start();
      const slow = await db.session();
      try {
        await slow.exec(pgLike() ? 'BEGIN' : 'START TRANSACTION');
        // Takes its timestamp now, commits much later than the safety lag.
        await slow.exec(`INSERT INTO ${q('late')} VALUES (1, 'slow', ${nowTs()})`);
        await new Promise((r) => setTimeout(r, 50));
        for (let i = 2; i <= 4; i++) await db.exec(`INSERT INTO ${q('late')} VALUES (${i}, 'fast', ${nowTs()})`);
        const before = await h.pollUntil((all) => events(all).length >= 3);
        expect(ids(before)).toEqual([2, 3, 4]); // the cursor is now past row 1's timestamp
        await new Promise((r) => setTimeout(r, 600)); // well past timestamp.delay.interval.ms
        await slow.exec('COMMIT');
      } finally {
        await slow.close();
      }
      const after = await h.pollUntil((all) => events(all).length >= 1);
      expect(ids(after)).toEqual([1]);
      expect(envelope(events(after)[0]!).after!.get('name')).toBe('slow');
      expect(ids(await h.pollFor(500))).toEqual([]);
    });

    it('resumes from the committed offset after a restart: nothing lost, only same-version duplicates', async () => {
      await createTable('resume');
      for (let i = 1; i <= 5; i++) await db.exec(`INSERT INTO ${q('resume')} VALUES (${i}, 'r', ${nowTs()})`);
      const h = harness('resume', { 'max.batch.size': '2' });
      await h.start();
      const seen = await h.pollUntil((all) => events(all).length >= 2);
      const versions = new Map(events(seen).map((r) => [Number(keyOf(r)), String(header(r, 'erpstream.version'))]));
      await h.restart();
      for (let i = 6; i <= 7; i++) await db.exec(`INSERT INTO ${q('resume')} VALUES (${i}, 'r', ${nowTs()})`);
      const rest = await h.pollUntil((all) => new Set(ids(all)).has(7));
      const all = [...events(seen), ...events(rest)];
      expect([...new Set(all.map((r) => Number(keyOf(r))))].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      // Re-emitted rows (the overlap window after a restart) carry their original version.
      for (const r of events(rest)) {
        const v = versions.get(Number(keyOf(r)));
        if (v !== undefined) expect(String(header(r, 'erpstream.version'))).toBe(v);
      }
    });

    it('picks up a column added while streaming, without a restart (schema.refresh.interval.ms)', async () => {
      await createTable('grow');
      await db.exec(`INSERT INTO ${q('grow')} VALUES (1, 'before', ${nowTs()})`);
      const h = harness('grow', { 'schema.refresh.interval.ms': '100' });
      await h.start();
      expect(ids(await h.pollUntil((all) => events(all).length >= 1))).toEqual([1]);
      await db.exec(`ALTER TABLE ${q('grow')} ADD ${pgLike() ? 'COLUMN ' : ''}note varchar(20)`);
      await new Promise((r) => setTimeout(r, 200));
      await db.exec(`INSERT INTO ${q('grow')} (id, name, updated_at, note) VALUES (2, 'after', ${nowTs()}, 'hello')`);
      const later = events(await h.pollUntil((all) => events(all).length >= 1));
      expect(later.map((r) => Number(keyOf(r)))).toEqual([2]);
      const after = envelope(later[0]!).after!;
      expect(after.get('note')).toBe('hello');
      expect(after.schema.fields?.map((f) => f.name)).toEqual(['id', 'name', 'updated_at', 'note']);
    });

    it('waits for the safety lag before reading a row, and names a missing column', async () => {
      await createTable('lag');
      const h = harness('lag', { 'timestamp.delay.interval.ms': '1500' });
      await h.start();
      await db.exec(`INSERT INTO ${q('lag')} VALUES (1, 'x', ${nowTs()})`);
      expect(ids(await h.pollFor(500))).toEqual([]);
      expect(ids(await h.pollUntil((all) => events(all).length >= 1))).toEqual([1]);

      const bad = harness('lag', { 'timestamp.column.name': 'changed_on' });
      await expect(bad.start()).rejects.toThrow(
        /timestamp\.column\.name.*changed_on|changed_on.*timestamp\.column\.name/s,
      );
    });

    it('under snapshot.mode=never, emits the rows of a table created while running, written before it was found', async () => {
      await createTable('dock');
      await db.exec(`INSERT INTO ${q('dock')} VALUES (1, 'old', ${nowTs()})`);
      // Past the safety lag and the overlap window: a row from before the start.
      await new Promise((r) => setTimeout(r, 600));
      const { connector, reconfigured } = await startWatchedConnector({
        ...harness('dock').props,
        'table.include.list': `${db.schema}\\.(dock|crate)`,
        'snapshot.mode': 'never',
        'table.poll.interval.ms': '100',
        'timestamp.overlap.window.ms': '100',
      });
      try {
        const h = new TaskHarness(connector.taskConfigs(1)[0]!);
        harnesses.push(h);
        await h.start();
        await db.exec(`INSERT INTO ${q('dock')} VALUES (2, 'new', ${nowTs()})`);
        expect(ids(await h.pollUntil((all) => events(all).length >= 1))).toEqual([2]); // never: row 1 was there

        await createTable('crate');
        await db.exec(`INSERT INTO ${q('crate')} VALUES (1, 'c1', ${nowTs()}), (2, 'c2', ${nowTs()})`);
        expect(await reconfigured()).toBe(1);
        await h.stop();
        // The rows are now older than a fresh start's reach (safety lag + overlap window).
        await new Promise((r) => setTimeout(r, 600));
        h.props = connector.taskConfigs(1)[0]!;
        await h.start();
        const got = events(await h.pollUntil((all) => events(all, 'crate').length >= 2), 'crate');
        expect(got.map((r) => Number(keyOf(r)))).toEqual([1, 2]);
        expect(ids(await h.pollFor(500))).toEqual([]);
        await h.stop();
      } finally {
        await connector.stop();
      }
    });
  });
}

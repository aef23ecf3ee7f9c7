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
  sourceProps,
} from './harness.js';

/**
 * Per-key order inside one poll on PostgreSQL (issue 12 item 1): an older transaction (lower txid) that writes a
 * key after a younger one committed a change to it. Reading a range in (txid, seq) order emitted the re-insert
 * before the delete (the topic ended with a tombstone while the row exists) and versions went backwards.
 */
describe('ErpSource PostgreSQL: per key, events follow the change sequence', () => {
  let db: DbFixture;
  const harnesses: TaskHarness[] = [];
  const q = (t: string) => `"${db.schema}"."${t}"`;

  beforeAll(async () => {
    db = await pgFixture();
  });
  afterAll(async () => {
    for (const h of harnesses) await h.stop().catch(() => {});
    await db?.close();
  });

  /** Per key: versions strictly increase; returns the last event per key (null value: deleted). */
  function lastPerKey(records: SourceRecord[], table: string): Map<number, { op: string; v: bigint; note: unknown }> {
    const last = new Map<number, { op: string; v: bigint; note: unknown }>();
    for (const r of events(records, table)) {
      const id = Number(keyOf(r));
      const v = BigInt(header(r, 'erpstream.version') as string);
      const prev = last.get(id);
      if (prev) expect(v, `key ${id}: version ${v} after ${prev.v}`).toBeGreaterThan(prev.v);
      const e = envelope(r);
      last.set(id, { op: e.op, v, note: e.after?.get('note') ?? null });
    }
    return last;
  }

  /** A table holding rows 11 and 16 and a task streaming it from now on. */
  async function streamingFrom(
    prefix: string,
    extra: Record<string, string>,
  ): Promise<{ table: string; h: TaskHarness }> {
    const table = `${prefix}_${harnesses.length}`;
    await db.createCaptured(table, 'id integer PRIMARY KEY, note text');
    await db.exec(`INSERT INTO ${q(table)} (id, note) VALUES (11, 'x'), (16, 'y')`);
    const h = new TaskHarness(
      sourceProps(db, { 'table.include.list': `${db.schema}\\.${table}`, 'snapshot.mode': 'never', ...extra }),
    );
    harnesses.push(h);
    await h.start();
    await h.poll();
    return { table, h };
  }

  /** Session A takes its txid first, session B deletes/updates 11 and commits, then A writes 11 and commits. */
  async function olderTransactionWritesLast(table: string, reinsert: boolean): Promise<void> {
    const a = await db.session();
    const b = await db.session();
    try {
      await a.exec('BEGIN');
      await a.exec(`UPDATE ${q(table)} SET note = 'a' WHERE id = 16`); // takes the lower txid
      if (reinsert) await b.exec(`DELETE FROM ${q(table)} WHERE id = 11`);
      else await b.exec(`UPDATE ${q(table)} SET note = 'b' WHERE id = 11`);
      if (reinsert) await a.exec(`INSERT INTO ${q(table)} (id, note) VALUES (11, 'again')`);
      else await a.exec(`UPDATE ${q(table)} SET note = 'a-last' WHERE id = 11`);
      await a.exec('COMMIT');
    } finally {
      await a.close();
      await b.close();
    }
  }

  for (const [label, extra] of [
    ['coalescing on (defaults)', {}],
    ['coalesce.changes=false', { 'coalesce.changes': 'false' }],
    ['max.batch.size=1', { 'max.batch.size': '1' }],
  ] as const) {
    it(`a delete then a re-insert by an older transaction ends with the row (${label})`, async () => {
      const { table, h } = await streamingFrom('item_ri', extra);
      await olderTransactionWritesLast(table, true);
      const all = await h.pollUntil((rs) => events(rs, table).length >= 2);
      all.push(...(await h.pollFor(300)));
      const last = lastPerKey(all, table);
      expect(last.get(11)?.op, 'row 11 exists: its last event must not be a delete').not.toBe('d');
      expect(last.get(11)?.note).toBe('again');
      expect(last.get(16)?.note).toBe('a');
      // The tombstone, if one was emitted for 11, must come before the re-insert.
      const for11 = all.filter((r) => r.topic.endsWith(`.${table}`) && Number(keyOf(r)) === 11);
      expect(for11.at(-1)!.value).not.toBeNull();
    });

    it(`two updates of one key by crossed transactions come out in sequence order (${label})`, async () => {
      const { table, h } = await streamingFrom('item_up', extra);
      await olderTransactionWritesLast(table, false);
      const all = await h.pollUntil((rs) => events(rs, table).length >= 2);
      all.push(...(await h.pollFor(300)));
      const last = lastPerKey(all, table); // asserts versions only go up per key
      expect(last.get(11)?.note).toBe('a-last');
      const seqs = (await db.exec(`SELECT max(seq)::text AS m FROM ${q('change_log')} WHERE record_id = '11'`))[0]!;
      expect(String(last.get(11)!.v)).toBe(seqs.m);
    });
  }
});

/**
 * Issue 12 item 2: killed before its first offset commit, a task snapshots again on restart. Snapshot rows had
 * version 0, so a consumer keeping the highest version kept older streamed rows, and a delete committed between
 * the runs was never emitted.
 */
for (const [name, fixture] of [
  ['PostgreSQL', () => pgFixture()],
  ['MariaDB', () => mysqlFixture()],
] as const) {
  describe(`ErpSource ${name}: a restart without stored offsets`, () => {
    let db: DbFixture;
    const harnesses: TaskHarness[] = [];
    beforeAll(async () => {
      db = await fixture();
    });
    afterAll(async () => {
      for (const h of harnesses) await h.stop().catch(() => {});
      await db?.close();
    });

    it('re-snapshots with versions that order against what the first run streamed, and emits deletes made meanwhile', async () => {
      const pgLike = db.dialect === 'postgresql';
      const q = pgLike ? `"${db.schema}"."item"` : `\`${db.schema}\`.\`item\``;
      await db.createCaptured(
        'item',
        pgLike ? 'id integer PRIMARY KEY, note text' : 'id int PRIMARY KEY, note varchar(20)',
      );
      for (let id = 1; id <= 4; id++) await db.exec(`INSERT INTO ${q} (id, note) VALUES (${id}, 'v0')`);
      const props = sourceProps(db, { 'table.include.list': `${db.schema}\\.item` });
      const topic: SourceRecord[] = [];
      const first = new TaskHarness(props);
      harnesses.push(first);
      await first.start();
      topic.push(...(await first.pollUntil((all) => events(all).length >= 4, 20_000, false)));
      await db.exec(`UPDATE ${q} SET note = 'v1' WHERE id IN (1, 2)`);
      topic.push(...(await first.pollUntil((all) => events(all).length >= 2, 20_000, false)));
      await first.stop(); // killed before any offset was committed
      expect(first.store.size()).toBe(0);
      // While no task runs: an update of a streamed key and a delete.
      await db.exec(`UPDATE ${q} SET note = 'v2' WHERE id = 1`);
      await db.exec(`DELETE FROM ${q} WHERE id = 2`);
      // A transaction open while the second snapshot starts: its change must win over the snapshot row.
      const held = await db.session();
      await held.exec('BEGIN');
      await held.exec(`UPDATE ${q} SET note = 'held' WHERE id = 3`);
      const second = new TaskHarness(props);
      harnesses.push(second);
      await second.start();
      topic.push(...(await second.pollUntil((all) => events(all).length >= 3, 20_000, false)));
      await held.exec('COMMIT');
      await held.close();
      const run2 = await second.pollUntil((all) => events(all).some((r) => envelope(r).after?.get('note') === 'held'));
      topic.push(...run2);
      const final = new Map<number, { v: bigint; note: unknown }>();
      for (const r of events(topic)) {
        const id = Number(keyOf(r));
        const v = BigInt(header(r, 'erpstream.version') as string);
        const heldV = final.get(id);
        if (heldV && v <= heldV.v) continue;
        final.set(id, { v, note: envelope(r).op === 'd' ? null : envelope(r).after!.get('note') });
      }
      const state = Object.fromEntries([...final].filter(([, s]) => s.note !== null).map(([id, s]) => [id, s.note]));
      expect(state).toEqual({ 1: 'v2', 3: 'held', 4: 'v0' });
    });
  });
}

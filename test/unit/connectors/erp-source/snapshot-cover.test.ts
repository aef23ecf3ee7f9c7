import { describe, expect, it } from 'vitest';
import type { Cursor } from '../../../../connectors/erp-source/cursor.js';
import type { ChangeRow } from '../../../../connectors/erp-source/model.js';
import { SnapshotCover } from '../../../../connectors/erp-source/snapshot-cover.js';
import { SnapshotVersions } from '../../../../connectors/erp-source/snapshot-versions.js';

const table = 'erp.item';
const change = (seq: number, key: string): ChangeRow => ({
  table: { schema: 'erp', table: 'item' },
  key: [key],
  op: 'u',
  seq: BigInt(seq),
});
const keyOf = (c: ChangeRow) => (c.key[0]!.startsWith('other') ? null : `${table}\u0000${c.key[0]}`);
const gaps = (seq: number, open: number[] = []): Cursor => ({
  kind: 'gaps',
  seq: String(seq),
  gaps: open.map((g) => [String(g), 0]),
});

/** Snapshot at high 20 that cannot see 12 (open): floor 11; keys b (15) and c (20) changed above it, a (10) not. */
function versions(): SnapshotVersions {
  const others = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 14, 16, 17, 18, 19].map((s) => change(s, `other${s}`));
  return SnapshotVersions.fromWindow(20n, [...others, change(10, 'a'), change(15, 'b'), change(20, 'c')], keyOf, 100n);
}

describe('SnapshotCover: the stream never goes below a snapshot row, across restarts, and lets go', () => {
  it('keeps only keys versioned above the floor, and skips a re-read change below their version', () => {
    const cover = new SnapshotCover();
    cover.add(table, gaps(20, [12]), versions());
    expect(cover.size).toBe(2);
    expect(cover.covers(table, 'b', 13n)).toBe(true);
    expect(cover.covers(table, 'b', 15n)).toBe(false);
    expect(cover.covers(table, 'b', 21n)).toBe(false);
    expect(cover.covers(table, 'a', 5n)).toBe(false); // at the floor's version: nothing to skip
    expect(cover.covers('erp.other', 'b', 13n)).toBe(false);
  });

  it('survives a restart through the offset (a restart inside the hand-off window)', () => {
    const cover = new SnapshotCover();
    cover.add(table, gaps(20, [12]), versions());
    const stored = JSON.parse(JSON.stringify(cover.offsetFor(table))) as unknown;
    const restarted = new SnapshotCover();
    restarted.restore(table, stored);
    expect(restarted.covers(table, 'b', 13n)).toBe(true);
    expect(restarted.covers(table, 'c', 19n)).toBe(true);
    // Hostile or old offsets restore nothing rather than fail.
    for (const bad of [undefined, null, 'x', { keys: 'x' }, { keys: [[1, 'x']] }]) {
      const c = new SnapshotCover();
      c.restore(table, bad);
      expect(c.size).toBe(0);
    }
  });

  it('lets a key go once every change below its version is done, and the table once all are', () => {
    const cover = new SnapshotCover();
    cover.add(table, gaps(20, [12]), versions());
    cover.release(gaps(30, [12])); // 12 still open: nothing passed
    expect(cover.size).toBe(2);
    cover.release(gaps(30, [17])); // 12 done: everything below 16 is done, so b (15) goes, c (20) stays
    expect(cover.covers(table, 'b', 13n)).toBe(false);
    expect(cover.covers(table, 'c', 19n)).toBe(true);
    expect(cover.offsetFor(table)!.keys).toEqual([['c', '20']]);
    cover.release(gaps(30));
    expect(cover.size).toBe(0);
    expect(cover.offsetFor(table)).toBeUndefined(); // records then carry no `covered` any more
  });

  it('watermark positions: everything goes once the stream xmin passes the hand-off xmax', () => {
    const cover = new SnapshotCover();
    const handoff: Cursor = { kind: 'xid', base: '100:105:101,103', seq: '20' };
    cover.add(table, handoff, versions());
    expect(cover.offsetFor(table)!.xmax).toBe('105');
    cover.release({ kind: 'xid', base: '103:110:103', seq: '30' });
    expect(cover.size).toBe(2);
    cover.release({ kind: 'xid', base: '105:110:', seq: '30' });
    expect(cover.size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { SnapshotVersions, readSnapshotVersions } from '../../../../connectors/erp-source/snapshot-versions.js';
import type { ChangeRow } from '../../../../connectors/erp-source/model.js';
import type { Cursor } from '../../../../connectors/erp-source/cursor.js';
import type { SnapshotSession } from '../../../../connectors/erp-source/dialects/dialect.js';

const change = (seq: number, key: string, op: ChangeRow['op'] = 'u'): ChangeRow => ({
  table: { schema: 's', table: 't' },
  key: [key],
  op,
  seq: BigInt(seq),
});
const keyOf = (c: ChangeRow) => c.key[0]!;

describe('SnapshotVersions: snapshot rows order against streamed changes of their key', () => {
  it('without holes: every row gets the highest visible sequence, above all it contains and below all it lacks', () => {
    const v = SnapshotVersions.fromWindow(10n, [change(8, 'a'), change(9, 'b'), change(10, 'a')], keyOf, 3n);
    expect(v.floor).toBe(10n);
    expect(v.versionOf('a')).toBe(10n);
    expect(v.versionOf('z')).toBe(10n); // changes to z not seen yet all come with numbers above 10
  });

  it('below a number the snapshot cannot see (a transaction still open), keys it saw changed keep their own version', () => {
    // 7 is held by an open transaction (on some key k): the snapshot row of k must lose to it, so keys the window
    // does not name get 6; a key changed at 9 (visible) must beat a streamed event at 9 from an earlier run.
    const v = SnapshotVersions.fromWindow(
      10n,
      [change(5, 'x'), change(6, 'a'), change(8, 'b'), change(9, 'c'), change(10, 'b')],
      keyOf,
      6n,
    );
    expect(v.floor).toBe(6n);
    expect(v.versionOf('k')).toBe(6n);
    expect(v.versionOf('a')).toBe(6n); // its change at 6 is at the floor
    expect(v.versionOf('b')).toBe(10n);
    expect(v.versionOf('c')).toBe(9n);
  });

  it('ignores tables not snapshotted and gives version 0 without a change table position', () => {
    const v = SnapshotVersions.fromWindow(
      3n,
      [change(2, 'a'), change(3, 'b')],
      (c) => (c.key[0] === 'a' ? null : 'b'),
      10n,
    );
    expect(v.versionOf('b')).toBe(3n);
    expect(SnapshotVersions.fromWindow(null, [], keyOf).versionOf('a')).toBe(0n);
  });

  it('a change the hand-off did not count as done, below a done change of its key, is already in the row', () => {
    // Key b: 8 by a transaction the hand-off left to the stream (a newer txid), then 10 by an older txid that was
    // done. The row holds both, with version 10; the stream re-reading 8 must not emit it below 10.
    const v = SnapshotVersions.fromWindow(10n, [change(9, 'c'), change(10, 'b')], keyOf, 6n);
    expect(v.versionOf('b')).toBe(10n);
    expect(v.covers('b', 8n)).toBe(true);
    // Later changes of b, changes of keys the snapshot saw unchanged, and b's own version are streamed as usual.
    expect(v.covers('b', 11n)).toBe(false);
    expect(v.covers('b', 10n)).toBe(false);
    expect(v.covers('z', 8n)).toBe(false);
  });
});

/** A session that sees `visible` (the chunk's transaction) and reads nothing else. */
const sessionSeeing = (handoff: Cursor, visible: ChangeRow[]): SnapshotSession => ({
  handoff,
  count: () => Promise.resolve(0),
  chunk: () => Promise.resolve([]),
  changesAbove: (after, limit) => Promise.resolve(visible.filter((c) => c.seq > BigInt(after)).slice(0, limit)),
  close: () => Promise.resolve(),
});
const gaps = (seq: number, open: number[] = []): Cursor => ({
  kind: 'gaps',
  seq: String(seq),
  gaps: open.map((g) => [String(g), 0]),
});
const withTx = (c: ChangeRow, txid: number): ChangeRow => ({ ...c, txid: BigInt(txid) });
/** Changes 1..n-1 of other keys (a settled history below the interesting part), then `rest`. */
const history = (below: number, rest: ChangeRow[], txid?: number): ChangeRow[] => [
  ...[...Array(below - 1).keys()].map((i) =>
    txid === undefined ? change(i + 1, 'old') : withTx(change(i + 1, 'old'), txid),
  ),
  ...rest,
];

describe('readSnapshotVersions: incremental snapshot chunks read after the stream position of their poll', () => {
  it('a chunk row is at least the last version streamed for its key and below what the stream emits after it', async () => {
    // The stream emitted up to 10 (a@8, b@10). Committed before the chunk read, not streamed yet: a@11, c@12.
    const visible = history(8, [change(8, 'a'), change(9, 'x'), change(10, 'b'), change(11, 'a'), change(12, 'c')]);
    const v = await readSnapshotVersions(sessionSeeing(gaps(12), visible), gaps(10), keyOf);
    expect(v.versionOf('b')).toBe(10n); // equal to the streamed b@10 it repeats: a duplicate, never lower
    expect(v.versionOf('a')).toBeGreaterThanOrEqual(8n);
    expect(v.versionOf('a')).toBeLessThan(11n); // a@11 is streamed after the chunk row and must win
    expect(v.versionOf('c')).toBeLessThan(12n);
    expect(v.versionOf('z')).toBe(10n);
  });

  it('a gap of the stream position (an open transaction) keeps untouched keys below it', async () => {
    // 7 is still open at the stream position (and at the chunk read); b@9 was streamed.
    const visible = history(5, [change(5, 'a'), change(6, 'a'), change(8, 'x'), change(9, 'b')]);
    const v = await readSnapshotVersions(sessionSeeing(gaps(9, [7]), visible), gaps(9, [7]), keyOf);
    expect(v.versionOf('k')).toBe(6n); // the change holding 7 (on any key) comes later and wins
    expect(v.versionOf('b')).toBe(9n);
    expect(v.versionOf('a')).toBe(6n);
  });

  it('PostgreSQL: what the stream watermark covers is contained, a change committed after it is not', async () => {
    // Stream position: transactions below 100 done. Tx 100 (a@21) committed between the stream read and the chunk.
    const at: Cursor = { kind: 'xid', base: '100:100:', seq: '20' };
    const visible = history(
      19,
      [withTx(change(19, 'a'), 98), withTx(change(20, 'b'), 99), withTx(change(21, 'a'), 100)],
      50,
    );
    const chunkTx: Cursor = { kind: 'xid', base: '101:101:', seq: '21' };
    const v = await readSnapshotVersions(sessionSeeing(chunkTx, visible), at, keyOf);
    expect(v.versionOf('a')).toBe(20n); // at least a@19 streamed, below a@21 streamed next
    expect(v.versionOf('b')).toBe(20n);
    // A position written before it carried `seq`: the window is anchored on the chunk's own highest sequence.
    const old = await readSnapshotVersions(sessionSeeing(chunkTx, visible), { kind: 'xid', base: '100:100:' }, keyOf);
    expect(old.versionOf('a')).toBe(20n);
    expect(old.versionOf('b')).toBe(20n);
  });

  it('version 0 only when the change table has no position (empty) or cannot be read', async () => {
    const empty: Cursor = { kind: 'gaps', seq: '0', gaps: [], unanchored: true };
    expect((await readSnapshotVersions(sessionSeeing(empty, []), empty, keyOf)).versionOf('a')).toBe(0n);
    const { changesAbove: _unused, ...blind } = sessionSeeing(gaps(5), [change(5, 'a')]);
    expect((await readSnapshotVersions(blind, gaps(5), keyOf)).versionOf('a')).toBe(0n);
  });
});

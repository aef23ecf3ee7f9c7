import { describe, expect, it } from 'vitest';
import { SnapshotVersions } from '../../../../connectors/erp-source/snapshot-versions.js';
import type { ChangeRow } from '../../../../connectors/erp-source/model.js';

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

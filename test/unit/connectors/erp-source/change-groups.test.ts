import { describe, expect, it } from 'vitest';
import { groupChanges } from '../../../../connectors/erp-source/change-groups.js';
import type { ChangeRow, TableId } from '../../../../connectors/erp-source/model.js';

const item: TableId = { schema: 'erp', table: 'item' };
const other: TableId = { schema: 'erp', table: 'other' };
const c = (seq: number, key: string, op: ChangeRow['op'], table = item): ChangeRow => ({
  table,
  key: [key],
  op,
  seq: BigInt(seq),
});
const none = () => false;

describe('groupChanges: per key, the change sequence decides', () => {
  it('coalesced, a key ends with its highest sequence: a delete then a re-insert is not a delete', () => {
    // delete of 11 at 23, re-insert at 24 (by an older transaction): the group's last change is the insert
    const groups = groupChanges([c(22, '16', 'u'), c(23, '11', 'd'), c(24, '11', 'c')], none, true);
    expect(groups.map((g) => [g.changes[0]!.key[0], g.changes.map((x) => `${x.op}@${x.seq}`)])).toEqual([
      ['16', ['u@22']],
      ['11', ['d@23', 'c@24']],
    ]);
  });

  it('without coalescing, every change is its own event, in sequence order', () => {
    const groups = groupChanges([c(23, '11', 'u'), c(24, '11', 'u')], none, false);
    expect(groups.map((g) => String(g.changes[0]!.seq))).toEqual(['23', '24']);
  });

  it('orders groups by their last change and skips what a stored offset covers, per table', () => {
    const rows = [c(1, 'a', 'c'), c(2, 'b', 'c'), c(3, 'a', 'u'), c(4, 'a', 'u', other), c(5, 'b', 'u')];
    const groups = groupChanges(rows, (table, ch) => table === 'erp.other' || ch.seq === 1n, true);
    expect(
      groups.map((g) => `${g.table}:${g.changes[0]!.key[0]}:${g.changes.map((x) => String(x.seq)).join(',')}`),
    ).toEqual(['erp.item:a:3', 'erp.item:b:2,5']);
  });
});

import { type ChangeRow, type TableId, keyString, qualified } from './model.js';

/** The changes of one key in one batch (one change each without coalescing), in the batch's sequence order. */
export interface ChangeGroup {
  table: string;
  changes: ChangeRow[];
  /** Index of the group's last change in the batch: groups are emitted in that order. */
  lastIndex: number;
}

/**
 * Groups a batch's change rows (ascending sequence: the dialects read them so, and per key the sequence is the
 * change order, taken under the row lock) by table and key. With coalescing, a key's group ends with its
 * highest-sequence change, which gives the event its version and decides whether it is a delete; its first
 * (lowest-sequence) change decides `c` versus `u`. Rows `covered` (already done by a table's stored offset, or a
 * table this task does not capture) are skipped. Groups come out in the order of their last change.
 */
export function groupChanges(
  rows: readonly ChangeRow[],
  covered: (table: string, change: ChangeRow) => boolean,
  coalesce: boolean,
): ChangeGroup[] {
  const groups = new Map<string, ChangeGroup>();
  const order: ChangeGroup[] = [];
  // Change rows of one table share one TableId object (the dialects cache them): name it once per run.
  let lastId: TableId | null = null;
  let table = '';
  rows.forEach((change, index) => {
    if (change.table !== lastId) {
      lastId = change.table;
      table = qualified(change.table);
    }
    if (covered(table, change)) return;
    // A table's keys all have the same number of columns: one column's text needs no JSON to stay distinct.
    const key = change.key.length === 1 ? change.key[0]! : keyString(change.key);
    const k = coalesce ? `${table}\u0000${key}` : `#${index}`;
    let g = groups.get(k);
    if (!g) {
      g = { table, changes: [], lastIndex: index };
      groups.set(k, g);
      order.push(g);
    }
    g.changes.push(change);
    g.lastIndex = index;
  });
  return order.sort((a, b) => a.lastIndex - b.lastIndex);
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Cursor,
  type GapCursor,
  advanceGapCursor,
  cursorFromOffset,
  intersectSnapshots,
  isDone,
  mergeCursors,
  parsePgSnapshot,
  visibleInSnapshot,
} from '../../../../connectors/erp-source/cursor.js';
import type { ChangeRow } from '../../../../connectors/erp-source/model.js';

const row = (seq: number): ChangeRow => ({
  table: { schema: 's', table: 't' },
  key: [String(seq)],
  op: 'u',
  seq: BigInt(seq),
});
const start: GapCursor = { kind: 'gaps', seq: '0', gaps: [] };

describe('gap cursor', () => {
  it('opens gaps for missing sequence numbers, closes them when the row appears, and expires them after the timeout', () => {
    const a = advanceGapCursor(start, [row(1), row(2), row(5)], 1000, 60_000);
    expect(a.end).toEqual({
      kind: 'gaps',
      seq: '5',
      gaps: [
        ['3', 1000],
        ['4', 1000],
      ],
    });
    const b = advanceGapCursor(a.end, [row(4), row(6)], 2000, 60_000);
    expect(b.end).toEqual({ kind: 'gaps', seq: '6', gaps: [['3', 1000]] });
    const c = advanceGapCursor(b.end, [], 61_000, 60_000);
    expect(c.expired).toEqual(['3']);
    expect(c.end.gaps).toEqual([]);
  });

  it('gives each row a position that covers it and nothing after it', () => {
    const cur: GapCursor = {
      kind: 'gaps',
      seq: '5',
      gaps: [
        ['2', 0],
        ['4', 0],
      ],
    };
    const a = advanceGapCursor(cur, [row(4), row(7), row(2), row(9)], 10, 60_000);
    expect(a.rows.map((r) => Number(r.seq))).toEqual([2, 4, 7, 9]);
    a.rows.forEach((r, i) => {
      expect(isDone(a.positions[i]!, r)).toBe(true);
      for (const later of a.rows.slice(i + 1)) expect(isDone(a.positions[i]!, later)).toBe(false);
    });
    // 6 and 8 are new gaps: not done anywhere
    expect(a.positions.some((p) => isDone(p, row(6)) || isDone(p, row(8)))).toBe(false);
  });

  it('never loses a committed row whatever the commit order, page size and restart point (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 40 }), // commit poll per seq (30 = rolled back)
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 0, max: 1000 }),
        (commitAt, page, crashSeed) => {
          const n = commitAt.length;
          const committed = (s: number, poll: number) => commitAt[s - 1]! < 30 && commitAt[s - 1]! <= poll;
          let cursor: GapCursor = start;
          let stored: GapCursor = start;
          const emitted = new Set<number>();
          for (let poll = 0; poll < 60; poll++) {
            const above = [];
            for (let s = Number(cursor.seq) + 1; s <= n && above.length < page; s++)
              if (committed(s, poll)) above.push(row(s));
            const fills = cursor.gaps.filter(([g]) => committed(Number(g), poll)).map(([g]) => row(Number(g)));
            const step = advanceGapCursor(cursor, [...fills, ...above], poll, 1_000_000);
            // crash after acknowledging a prefix of the batch: restart from the stored position
            if (poll === 10 && step.rows.length > 0) {
              const acked = crashSeed % (step.rows.length + 1);
              step.rows.slice(0, acked).forEach((r) => emitted.add(Number(r.seq)));
              if (acked > 0) stored = step.positions[acked - 1]!;
              cursor = stored;
              continue;
            }
            step.rows.forEach((r) => emitted.add(Number(r.seq)));
            if (step.rows.length > 0) stored = step.end;
            cursor = step.end;
          }
          for (let s = 1; s <= n; s++) if (commitAt[s - 1]! < 30) expect(emitted.has(s)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('merges watermark positions with the lowest sequence high mark, or none when one lacks it', () => {
    const a: Cursor = { kind: 'xid', base: '10:20:12', seq: '500' };
    const b: Cursor = { kind: 'xid', base: '15:25:', seq: '480' };
    expect(mergeCursors([a, b])).toEqual({ kind: 'xid', base: '10:20:12', seq: '480' });
    expect(mergeCursors([a, { kind: 'xid', base: '15:25:' }])).toEqual({ kind: 'xid', base: '10:20:12' });
  });

  it('merges stored positions into one whose done-set is their intersection', () => {
    const m = mergeCursors([
      { kind: 'gaps', seq: '10', gaps: [['7', 5]] },
      { kind: 'gaps', seq: '8', gaps: [['3', 9]] },
    ]);
    expect(m).toEqual({
      kind: 'gaps',
      seq: '8',
      gaps: [
        ['3', 9],
        ['7', 5],
      ],
    });
  });
});

describe('PostgreSQL snapshot cursor', () => {
  it('reads pg_snapshot text and answers visibility like pg_visible_in_snapshot', () => {
    const s = parsePgSnapshot('100:110:102,105');
    expect(visibleInSnapshot(99n, s)).toBe(true);
    expect(visibleInSnapshot(101n, s)).toBe(true);
    expect(visibleInSnapshot(102n, s)).toBe(false);
    expect(visibleInSnapshot(110n, s)).toBe(false);
  });

  it('intersects snapshots so that a txid is visible in the result only if visible in all', () => {
    const a = parsePgSnapshot('100:110:102,105');
    const b = parsePgSnapshot('104:108:104,106');
    const i = intersectSnapshots([a, b]);
    for (let x = 95n; x < 115n; x++) {
      expect(visibleInSnapshot(x, i)).toBe(visibleInSnapshot(x, a) && visibleInSnapshot(x, b));
    }
  });

  it('marks done what the base snapshot saw and, inside a target range, what is at or before `after`', () => {
    const c = {
      kind: 'xid' as const,
      base: '100:100:',
      target: '100:120:105',
      after: ['103', '50'] as [string, string],
    };
    const ch = (txid: number, seq: number) => ({ seq: BigInt(seq), txid: BigInt(txid) });
    expect(isDone(c, ch(99, 1))).toBe(true);
    expect(isDone(c, ch(103, 50))).toBe(true);
    expect(isDone(c, ch(103, 51))).toBe(false);
    expect(isDone(c, ch(105, 1))).toBe(false); // in progress at target
    expect(isDone(c, ch(104, 1))).toBe(false);
  });

  it('inside a range read in sequence order, marks done the range rows up to `afterSeq`, whatever their txid', () => {
    const c = {
      kind: 'xid' as const,
      base: '100:100:',
      target: '100:120:105',
      floor: '40',
      afterSeq: '50',
    };
    const ch = (txid: number, seq: number) => ({ seq: BigInt(seq), txid: BigInt(txid) });
    expect(isDone(c, ch(99, 900))).toBe(true); // visible in base
    expect(isDone(c, ch(110, 50))).toBe(true); // a younger transaction with a lower sequence: read already
    expect(isDone(c, ch(101, 51))).toBe(false); // an older transaction with a higher sequence: not yet
    expect(isDone(c, ch(105, 1))).toBe(false); // in progress at target
    expect(isDone(c, ch(121, 1))).toBe(false); // after target
  });
});

describe('snapshot hand-off (gap tracking)', () => {
  it('takes every invisible number in the window below the high mark as an open gap, even the lowest', async () => {
    const { gapHandoff } = await import('../../../../connectors/erp-source/dialects/handoff.js');
    // seq 1 is held by a transaction still open at snapshot time; 2 and 4 committed; 3 rolled back
    expect(gapHandoff(4n, [2n, 4n], 7)).toEqual({
      kind: 'gaps',
      seq: '4',
      gaps: [
        ['1', 7],
        ['3', 7],
      ],
    });
    expect(gapHandoff(0n, [], 7)).toEqual({ kind: 'gaps', seq: '0', gaps: [] });
    expect(gapHandoff(5000n, [5000n], 7).gaps).toHaveLength(999);
  });
});

describe('gap cursor safety valves', () => {
  it('anchors an empty-table start on the first row seen instead of opening millions of gaps', () => {
    const a = advanceGapCursor({ kind: 'gaps', seq: '0', gaps: [], unanchored: true }, [row(5_000_000)], 0, 60_000);
    expect(a.end.seq).toBe('5000000');
    expect(a.end.gaps.length).toBeLessThanOrEqual(1000);
    expect(a.end.unanchored).toBeUndefined();
    const empty = advanceGapCursor({ kind: 'gaps', seq: '0', gaps: [], unanchored: true }, [], 0, 60_000);
    expect(empty.end.unanchored).toBe(true);
  });

  it('tracks at most MAX_NEW_GAPS new gaps (the highest) when the sequence jumps', () => {
    const a = advanceGapCursor(start, [row(1), row(1_000_000)], 0, 60_000);
    expect(a.end.gaps).toHaveLength(10_000);
    expect(a.end.gaps[0]![0]).toBe('990000');
    expect(a.capped).toBe(989_999);
  });
});

describe('change tracking cursor', () => {
  const change = (seq: bigint) => ({ seq, table: { schema: 'dbo', table: 't' }, key: ['1'], op: 'u' as const });

  it('is done up to its version; positions inside a range count as not done (re-read: a duplicate, not a loss)', () => {
    const c: Cursor = { kind: 'ct', version: '10', upper: '20', table: 'dbo.t', after: ['15', ['7']] };
    expect(isDone(c, change(10n))).toBe(true);
    expect(isDone(c, change(11n))).toBe(false);
    expect(isDone(c, change(15n))).toBe(false);
  });

  it('a task starts at the lowest version of its tables, outside any range', () => {
    expect(
      mergeCursors([
        { kind: 'ct', version: '30' },
        { kind: 'ct', version: '12', upper: '40', table: 'dbo.a', after: ['20', ['1']] },
      ]),
    ).toEqual({ kind: 'ct', version: '12' });
    expect(cursorFromOffset({ kind: 'ct', version: '5' })).toEqual({ kind: 'ct', version: '5' });
  });
});

import { describe, expect, it } from 'vitest';
import { AbandonedSequences } from '../../../../connectors/erp-source/abandoned.js';
import { advanceGapCursor } from '../../../../connectors/erp-source/cursor.js';

describe('AbandonedSequences (numbers given up, still read again)', () => {
  it('re-reads at most once per interval and forgets a number only when its row was handed out', () => {
    const a = new AbandonedSequences(10, 1_000);
    a.add(['5', '7']);
    expect(a.due(0)).toEqual(['5', '7']);
    expect(a.due(500)).toEqual([]); // inside the interval
    expect(a.due(1_000)).toEqual([]); // still asked by a read whose batch was not handed out: never twice
    a.settle('all'); // that read was dropped
    expect(a.due(2_000)).toEqual(['5', '7']);
    expect(a.arrived(['7', '9'])).toBe(1);
    a.settle(['5', '7']);
    expect(a.due(3_000)).toEqual(['5']);
    expect(a.stats()).toEqual({ late_changes: 1, abandoned_watched: 1, abandoned_forgotten: 0 });
  });

  it('stays within its capacity by forgetting the oldest numbers, and says how many', () => {
    const a = new AbandonedSequences(3, 0);
    expect(a.add(['1', '2', '3'])).toBe(0);
    expect(a.add(['4', '5'])).toBe(2);
    expect(a.due(0)).toEqual(['3', '4', '5']);
    expect(a.stats().abandoned_forgotten).toBe(2);
  });
});

describe('gap give-up on evidence', () => {
  const row = (seq: number) => ({
    table: { schema: 's', table: 't' },
    key: [String(seq)],
    op: 'c' as const,
    seq: BigInt(seq),
  });

  it('keeps a timed-out gap while the evidence says a transaction could hold it', () => {
    const cursor = { kind: 'gaps' as const, seq: '10', gaps: [['8', 0] as [string, number]] };
    const held = advanceGapCursor(cursor, [row(11)], 10_000, 1_000, () => true);
    expect(held.expired).toEqual([]);
    expect(held.end.gaps).toEqual([['8', 0]]);
    const free = advanceGapCursor(cursor, [row(11)], 10_000, 1_000, () => false);
    expect(free.expired).toEqual(['8']);
    expect(free.end.gaps).toEqual([]);
  });

  it('emits a row for a number given up earlier and keeps the position where it was', () => {
    const cursor = { kind: 'gaps' as const, seq: '10', gaps: [] };
    const step = advanceGapCursor(cursor, [row(4), row(11)], 0, 1_000);
    expect(step.rows.map((r) => r.seq)).toEqual([4n, 11n]);
    expect(step.positions[0]).toEqual({ kind: 'gaps', seq: '10', gaps: [] });
    expect(step.end).toEqual({ kind: 'gaps', seq: '11', gaps: [] });
  });
});

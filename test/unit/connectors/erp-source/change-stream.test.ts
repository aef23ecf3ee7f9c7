import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../runtime/api/index.js';
import { ChangeStream } from '../../../../connectors/erp-source/change-stream.js';
import { parseSettings } from '../../../../connectors/erp-source/config.js';
import type { Cursor } from '../../../../connectors/erp-source/cursor.js';
import type { ChangeBatch, Dialect, GapReadOptions } from '../../../../connectors/erp-source/dialects/dialect.js';

const settings = parseSettings({
  'connection.url': 'mysql://127.0.0.1:3306/erp',
  'change.table': 'erp.change_log',
  'topic.prefix': 'erp',
  'gap.timeout.ms': '1',
});

/** A dialect that records each read (from where, which given-up numbers it re-read) and returns an empty batch. */
function recording(): { dialect: Dialect; reads: Array<{ from: Cursor; recheck: readonly string[] }> } {
  const reads: Array<{ from: Cursor; recheck: readonly string[] }> = [];
  const dialect = {
    readChanges: async (from: Cursor, _limit: number, _now: number, _timeout: number, o: GapReadOptions = {}) => {
      reads.push({ from, recheck: o.recheck ?? [] });
      return { rows: [], positions: [], end: from, expiredGaps: [], full: false } satisfies ChangeBatch;
    },
  } as unknown as Dialect;
  return { dialect, reads };
}

const at = (seq: number): Cursor => ({ kind: 'gaps', seq: String(seq), gaps: [] });
const batch = (over: Partial<ChangeBatch>): ChangeBatch => ({
  rows: [],
  positions: [],
  end: at(10),
  expiredGaps: [],
  full: false,
  ...over,
});

describe('ChangeStream: read-ahead and gap bookkeeping', () => {
  it('hands out a batch read ahead only for the position it was read from', async () => {
    const { dialect, reads } = recording();
    const stream = new ChangeStream({ dialect, settings, log: silentLogger, progress: () => {} });
    const p = at(5);
    stream.readAhead(p);
    await stream.read(p);
    expect(reads).toHaveLength(1); // the read ahead was used
    stream.readAhead(p);
    await stream.read(at(5)); // an equal position but not the one read from (the stream moved): read again
    expect(reads).toHaveLength(3);
  });

  it('re-reads given-up numbers, asks them again after a dropped read, and counts a late arrival', async () => {
    const { dialect, reads } = recording();
    const progress: Array<Record<string, unknown>> = [];
    const stream = new ChangeStream({ dialect, settings, log: silentLogger, progress: (i) => progress.push(i) });
    stream.handedOut(batch({ expiredGaps: ['7'] }));
    stream.readAhead(at(10));
    await new Promise((r) => setTimeout(r, 5));
    expect(reads.at(-1)!.recheck).toEqual(['7']);
    stream.drop(); // that read is dropped: 7 must be asked again
    await new Promise((r) => setTimeout(r, 5));
    await stream.read(at(10));
    expect(reads.at(-1)!.recheck).toEqual(['7']);
    stream.handedOut(batch({ late: ['7'], rechecked: ['7'] }));
    expect(progress).toEqual([{ stream: { late_changes: 1, abandoned_watched: 0, abandoned_forgotten: 0 } }]);
    await new Promise((r) => setTimeout(r, 5));
    await stream.read(at(10));
    expect(reads.at(-1)!.recheck).toEqual([]); // arrived: no longer watched
  });

  it('asks given-up numbers again after a read ahead is passed over for another position (a batch rebuilt after a schema change)', async () => {
    const { dialect, reads } = recording();
    const stream = new ChangeStream({ dialect, settings, log: silentLogger, progress: () => {} });
    stream.handedOut(batch({ expiredGaps: ['7'] }));
    stream.readAhead(at(10)); // a full batch's read ahead: it re-reads 7
    await new Promise((r) => setTimeout(r, 5));
    expect(reads.at(-1)!.recheck).toEqual(['7']);
    // The task reads from the position it was at instead (the batch built before a schema change is read again):
    // the read ahead is never handed out, so what it re-read is not settled by handedOut.
    await stream.read(at(5));
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 5));
      await stream.read(at(10));
    }
    // Before the fix: 7 stayed "pending" for a read that was thrown away, and was never read again while the task ran:
    // a change committed late under it was lost.
    expect(reads.slice(1).some((r) => r.recheck.includes('7'))).toBe(true);
  });
});

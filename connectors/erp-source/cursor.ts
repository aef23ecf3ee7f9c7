import { DataError } from '../../runtime/api/index.js';
import type { ChangeRow } from './model.js';

/**
 * Stream positions over a change table, as JSON-safe offsets (64-bit numbers as strings). Each kind answers
 * two questions the capture needs: "is this change already done?" (`isDone`, used to skip what a table's stored
 * offset covers) and "where can a task start so that nothing any of its tables still needs is skipped?"
 * (`mergeCursors`, the intersection of the done-sets).
 *
 * - `gaps`: sequence-based (MariaDB/MySQL, or any change table without a watermark column). Everything up to
 *   `seq` is done except the listed gaps: sequence numbers not seen yet, maybe an open transaction, maybe a
 *   rollback; each is re-read until it fills or `gap.timeout.ms` passes since `since`.
 * - `xid`: PostgreSQL transaction watermark. `base` is a pg_snapshot (`xmin:xmax:xip,...`): every transaction
 *   visible in it is done. While a poll works through the transactions that became visible in `target`,
 *   `after` marks the last (txid, seq) done in that range.
 * - `rv`: SQL Server rowversion, read only below MIN_ACTIVE_ROWVERSION(), so a single high mark is safe.
 */
export type GapCursor = {
  kind: 'gaps';
  seq: string;
  gaps: Array<[seq: string, sinceMs: number]>;
  /** Set when the change table was empty at the start: the next sequence is unknown until a row is seen. */
  unanchored?: true;
};

/**
 * At most this many new gaps are opened in one step, the highest ones: a sequence that jumps by millions
 * (reseeded, or a start on an empty table) must not turn into millions of re-reads.
 */
export const MAX_NEW_GAPS = 10_000;
export type XidCursor = {
  kind: 'xid';
  base: string;
  target?: string;
  /**
   * Written by versions that read a range in (txid, seq) order: the last (txid, seq) done in it. Still honoured
   * by `isDone`; a range resumed from such a position is read again from its start (duplicates, never a loss).
   */
  after?: [txid: string, seq: string];
  /**
   * The range (base, target] is read in sequence order (per key, the sequence is the change order: it is taken
   * under the row lock), starting above `floor` (the range's lowest sequence minus one, fixed when the range
   * begins); `afterSeq` is the last sequence done in it.
   */
  floor?: string;
  afterSeq?: string;
  /**
   * The highest change sequence read in this position's history (absent in offsets written before it existed).
   * Not used to decide what is done: only to notice that change rows after it were purged before being read.
   */
  seq?: string;
};
export type RowversionCursor = { kind: 'rv'; rv: string };
/**
 * SQL Server Change Tracking: every change with a version <= `version` is done. While a poll works through
 * (version, upper] (upper = CHANGE_TRACKING_CURRENT_VERSION() frozen when the range began), tables are read one
 * after the other in name order: `table` and `after` (last version and key read in it) say how far it got.
 */
export type ChangeTrackingCursor = {
  kind: 'ct';
  version: string;
  upper?: string;
  table?: string;
  after?: [version: string, key: string[]];
};
export type Cursor = GapCursor | XidCursor | RowversionCursor | ChangeTrackingCursor;

/** A parsed pg_snapshot. Visible = committed before the snapshot (or aborted: such rows do not exist). */
export interface PgSnapshot {
  xmin: bigint;
  xmax: bigint;
  xip: bigint[];
}

const parsed = new Map<string, PgSnapshot>();

/** Parses a pg_snapshot text (memoized: a batch checks many rows against the same few snapshots). */
export function parsePgSnapshot(text: string): PgSnapshot {
  const hit = parsed.get(text);
  if (hit) return hit;
  if (parsed.size > 64) parsed.clear();
  const s = parseSnapshotText(text);
  parsed.set(text, s);
  return s;
}

function parseSnapshotText(text: string): PgSnapshot {
  const m = /^(\d+):(\d+):([\d,]*)$/.exec(text.trim());
  if (!m) throw new DataError(`Not a pg_snapshot: ${JSON.stringify(text)}`);
  return {
    xmin: BigInt(m[1]!),
    xmax: BigInt(m[2]!),
    xip: m[3] ? m[3].split(',').map((x) => BigInt(x)) : [],
  };
}

export function formatPgSnapshot(s: PgSnapshot): string {
  const xip = [...new Set(s.xip)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `${s.xmin}:${s.xmax}:${xip.join(',')}`;
}

/** PostgreSQL's pg_visible_in_snapshot. */
export function visibleInSnapshot(txid: bigint, s: PgSnapshot): boolean {
  if (txid < s.xmin) return true;
  if (txid >= s.xmax) return false;
  return !s.xip.includes(txid);
}

/** The snapshot whose visible set is the intersection of the given ones'. */
export function intersectSnapshots(snaps: PgSnapshot[]): PgSnapshot {
  if (snaps.length === 0) throw new DataError('intersectSnapshots needs at least one snapshot');
  const xmin = snaps.reduce((m, s) => (s.xmin < m ? s.xmin : m), snaps[0]!.xmin);
  const xmax = snaps.reduce((m, s) => (s.xmax < m ? s.xmax : m), snaps[0]!.xmax);
  const xip = new Set<bigint>();
  for (const s of snaps) for (const x of s.xip) if (x < xmax) xip.add(x);
  return { xmin, xmax: xmax < xmin ? xmin : xmax, xip: [...xip] };
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether a change is covered by a (table's stored) cursor, i.e. was emitted and acknowledged before. */
export function isDone(cursor: Cursor, change: Pick<ChangeRow, 'seq' | 'txid' | 'rowversion'>): boolean {
  switch (cursor.kind) {
    case 'gaps': {
      if (change.seq > BigInt(cursor.seq)) return false;
      const s = String(change.seq);
      return !cursor.gaps.some(([g]) => g === s);
    }
    case 'xid': {
      if (change.txid === undefined) return false;
      if (visibleInSnapshot(change.txid, parsePgSnapshot(cursor.base))) return true;
      if (!cursor.target || (!cursor.after && cursor.afterSeq === undefined)) return false;
      if (!visibleInSnapshot(change.txid, parsePgSnapshot(cursor.target))) return false;
      if (cursor.afterSeq !== undefined) return change.seq <= BigInt(cursor.afterSeq);
      const [at, as] = cursor.after!;
      const c = cmpBig(change.txid, BigInt(at));
      return c < 0 || (c === 0 && change.seq <= BigInt(as));
    }
    case 'rv':
      return change.rowversion !== undefined && change.rowversion <= BigInt(cursor.rv);
    case 'ct':
      // Positions inside a range are not compared here: a restart re-reads the range (a duplicate, never a loss).
      return change.seq <= BigInt(cursor.version);
  }
}

/** A cursor that is done only where every given cursor is done: a safe common start. */
export function mergeCursors(cursors: Cursor[]): Cursor {
  if (cursors.length === 0) throw new DataError('mergeCursors needs at least one cursor');
  const kind = cursors[0]!.kind;
  if (cursors.some((c) => c.kind !== kind)) {
    throw new DataError(
      `Stored offsets mix capture positions of kinds ${[...new Set(cursors.map((c) => c.kind))].join(', ')}; ` +
        'was the change table altered (watermark column added or dropped)? Reset the connector offsets.',
    );
  }
  switch (kind) {
    case 'gaps': {
      const gs = cursors as GapCursor[];
      const seq = gs.reduce((m, c) => (BigInt(c.seq) < m ? BigInt(c.seq) : m), BigInt(gs[0]!.seq));
      const gaps = new Map<string, number>();
      for (const c of gs) {
        for (const [g, since] of c.gaps) {
          if (BigInt(g) <= seq) gaps.set(g, Math.min(since, gaps.get(g) ?? since));
        }
      }
      const unanchored = gs.some((c) => c.unanchored && BigInt(c.seq) === seq);
      return {
        kind,
        seq: String(seq),
        gaps: sortGaps([...gaps]),
        ...(unanchored ? { unanchored: true as const } : {}),
      };
    }
    case 'xid': {
      const xs = cursors as XidCursor[];
      const seqs = xs.map((c) => c.seq);
      const seq = seqs.every((v) => v !== undefined)
        ? seqs.map((v) => BigInt(v)).reduce((m, v) => (v < m ? v : m))
        : undefined;
      return {
        kind,
        base: formatPgSnapshot(intersectSnapshots(xs.map((c) => parsePgSnapshot(c.base)))),
        ...(seq !== undefined ? { seq: String(seq) } : {}),
      };
    }
    case 'rv': {
      const rvs = (cursors as RowversionCursor[]).map((c) => BigInt(c.rv));
      return { kind, rv: String(rvs.reduce((m, v) => (v < m ? v : m))) };
    }
    case 'ct': {
      const vs = (cursors as ChangeTrackingCursor[]).map((c) => BigInt(c.version));
      return { kind, version: String(vs.reduce((m, v) => (v < m ? v : m))) };
    }
  }
}

function sortGaps(gaps: Array<[string, number]>): Array<[string, number]> {
  return gaps.sort((a, b) => cmpBig(BigInt(a[0]), BigInt(b[0])));
}

/** What a gap-tracking read returns: the rows (new ones and gap fills) and the cursor positions after each. */
export interface GapAdvance {
  /** Rows in capture order (ascending seq). */
  rows: ChangeRow[];
  /** positions[i] is the cursor once rows[0..i] are done; the last equals `end`. */
  positions: GapCursor[];
  end: GapCursor;
  /** Gaps given up on in this step (for the log). */
  expired: string[];
  /** Missing numbers not tracked because of MAX_NEW_GAPS (for the log). */
  capped: number;
}

/**
 * Advances a gap cursor over rows read as `seq > cursor.seq` (ascending, at most one page) plus rows found
 * for open gaps. New gaps are the sequence numbers missing below the highest row read; a gap closes when its
 * row appears and is given up after `gapTimeoutMs`.
 */
export function advanceGapCursor(
  cursor: GapCursor,
  rows: ChangeRow[],
  nowMs: number,
  gapTimeoutMs: number,
  /**
   * Evidence: whether a gap open since `sinceMs` may still be held by an open transaction. A gap past
   * `gapTimeoutMs` is given up only when this says no (without it, on time alone).
   */
  mayBeHeld: (sinceMs: number) => boolean = () => false,
): GapAdvance {
  const sorted = [...rows].sort((a, b) => cmpBig(a.seq, b.seq));
  if (cursor.unanchored && sorted.length === 0) return { rows: [], positions: [], end: cursor, expired: [], capped: 0 };
  // Unanchored (empty table at start): numbers just below the first row seen may belong to open transactions.
  const firstSeen = sorted[0]?.seq;
  const oldSeq =
    cursor.unanchored && firstSeen !== undefined
      ? bigMax(BigInt(cursor.seq), firstSeen - UNANCHORED_WINDOW - 1n)
      : BigInt(cursor.seq);
  const seen = new Set(sorted.map((r) => r.seq));
  const open = new Map<bigint, number>();
  for (const [g, since] of cursor.gaps) if (!seen.has(BigInt(g))) open.set(BigInt(g), since);
  let maxSeq = oldSeq;
  for (const r of sorted) if (r.seq > maxSeq) maxSeq = r.seq;
  // Every number between the old high mark and the new one that no row filled is a new gap (the highest
  // MAX_NEW_GAPS of them).
  const floor = bigMax(oldSeq, maxSeq - BigInt(MAX_NEW_GAPS) - 1n);
  const capped = Number(floor - oldSeq);
  let expectNext = oldSeq + 1n;
  for (const r of sorted) {
    if (r.seq <= oldSeq) continue;
    for (let s = bigMax(expectNext, floor + 1n); s < r.seq; s++) open.set(s, nowMs);
    expectNext = r.seq + 1n;
  }
  const expired: string[] = [];
  for (const [g, since] of open) {
    if (nowMs - since >= gapTimeoutMs && !mayBeHeld(since)) {
      expired.push(String(g));
      open.delete(g);
    }
  }
  const filledLater = new Set(sorted.filter((r) => r.seq <= oldSeq && !cursor.unanchored).map((r) => r.seq));
  const positions: GapCursor[] = [];
  for (const r of sorted) {
    filledLater.delete(r.seq);
    const pos = r.seq > oldSeq ? r.seq : oldSeq;
    const gaps: Array<[string, number]> = [];
    for (const [g, since] of open) if (g < pos) gaps.push([String(g), since]);
    // Old gaps filled by rows later in this batch are not done yet at this position.
    for (const g of filledLater) if (g < pos) gaps.push([String(g), cursorGapSince(cursor, g) ?? nowMs]);
    positions.push({ kind: 'gaps', seq: String(pos), gaps: sortGaps(gaps) });
  }
  const end: GapCursor = {
    kind: 'gaps',
    seq: String(maxSeq),
    gaps: sortGaps([...open].map(([g, since]) => [String(g), since])),
  };
  if (positions.length > 0) positions[positions.length - 1] = end;
  return { rows: sorted, positions, end, expired, capped: capped > 0 ? capped : 0 };
}

/** How far below the first row an unanchored cursor assumes open transactions may hold numbers. */
const UNANCHORED_WINDOW = 1000n;

function bigMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function cursorGapSince(cursor: GapCursor, g: bigint): number | undefined {
  return cursor.gaps.find(([s]) => BigInt(s) === g)?.[1];
}

export function cursorFromOffset(value: unknown): Cursor | null {
  if (value === null || typeof value !== 'object') return null;
  const c = value as Record<string, unknown>;
  if (c.kind === 'gaps' && typeof c.seq === 'string' && Array.isArray(c.gaps)) return c as GapCursor;
  if (c.kind === 'xid' && typeof c.base === 'string') return c as XidCursor;
  if (c.kind === 'rv' && typeof c.rv === 'string') return c as RowversionCursor;
  if (c.kind === 'ct' && typeof c.version === 'string') return c as ChangeTrackingCursor;
  throw new DataError(`Stored offset has an unknown stream position: ${JSON.stringify(value)}`);
}

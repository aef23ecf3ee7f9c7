import { type Cursor, isDone } from './cursor.js';
import type { SnapshotSession } from './dialects/dialect.js';
import type { ChangeRow } from './model.js';

/** How far below the snapshot's highest sequence the versions look for numbers held by open transactions. */
export const VERSION_WINDOW = 10_000n;

/**
 * Versions of snapshot rows. A snapshot row must order correctly against streamed events of the same key, on both
 * sides: above (or equal to) every change the snapshot already contains — a consumer that kept a streamed event
 * of an earlier run must take the snapshot row — and below every change it does not contain yet — a transaction
 * still open at the snapshot is streamed later and must win.
 *
 * Per key, changes are serialized by the row lock, so a key's visible changes all have lower sequences than its
 * invisible ones. Let `floor` be one below the lowest number the snapshot cannot see in the window below its
 * highest sequence (or that highest sequence when it sees every number there). A key changed above `floor` gets
 * the highest sequence of its visible changes; any other key gets `floor`: its visible changes are at or below
 * it, its invisible ones above it. Numbers below the window are taken as settled (as the gap hand-off does).
 */
export class SnapshotVersions {
  private constructor(
    readonly floor: bigint,
    private readonly byKey: ReadonlyMap<string, bigint>,
  ) {}

  /** No change table rows (or no way to read them): every snapshot row gets version 0. */
  static readonly none = new SnapshotVersions(0n, new Map());

  /**
   * From the snapshot's highest visible sequence and the change rows it sees above `high - VERSION_WINDOW`
   * (ascending or not). `keyOf` names a change's key as the task does (null: a table not snapshotted).
   */
  static fromWindow(
    high: bigint | null,
    visible: readonly ChangeRow[],
    keyOf: (change: ChangeRow) => string | null,
    window = VERSION_WINDOW,
  ): SnapshotVersions {
    if (high === null) return SnapshotVersions.none;
    const seen = new Set(visible.map((c) => c.seq));
    const low = high - window > 0n ? high - window : 0n;
    let floor = high;
    for (let s = low + 1n; s <= high; s++) {
      if (!seen.has(s)) {
        floor = s - 1n;
        break;
      }
    }
    const byKey = new Map<string, bigint>();
    for (const c of visible) {
      if (c.seq <= floor || c.seq > high) continue;
      const k = keyOf(c);
      if (k === null) continue;
      const v = byKey.get(k);
      if (v === undefined || c.seq > v) byKey.set(k, c.seq);
    }
    return new SnapshotVersions(floor, byKey);
  }

  /** The version of the snapshot row of `key` (as `keyOf` named it). */
  versionOf(key: string): bigint {
    return this.byKey.get(key) ?? this.floor;
  }

  /** The keys whose rows get their own version (changed above the floor), with that version. */
  entries(): IterableIterator<[string, bigint]> {
    return this.byKey.entries();
  }

  /**
   * Whether a streamed change of `key` at `seq` is already in the snapshot row. A change the hand-off did not count
   * as done is streamed again after the snapshot, and it can sit below a done change of the same key that the
   * snapshot row reflects (an older transaction id took the row lock later). Per key, changes are serialized by
   * the row lock, so the row already holds it; emitting it would put a lower version after the snapshot row's.
   */
  covers(key: string, seq: bigint): boolean {
    const covered = this.byKey.get(key);
    return covered !== undefined && covered > seq;
  }
}

/**
 * The versions of rows read in `session`, given that the stream has emitted (or will not emit again) exactly the
 * changes `contained` covers (see SnapshotVersions): the change rows the session sees in the window below its own
 * highest sequence, as far as `contained` covers them. For the initial snapshot `contained` is the table's
 * hand-off; for a chunk of an incremental snapshot it is the stream position the chunk is read after, so changes
 * committed between that position and the chunk read, which the stream emits next, get higher versions than the
 * chunk row. Version 0 for all when the change table cannot be read in the session (or is empty).
 */
export async function readSnapshotVersions(
  session: SnapshotSession,
  contained: Cursor,
  keyOf: (change: ChangeRow) => string | null,
): Promise<SnapshotVersions> {
  const high = windowTop(contained) ?? windowTop(session.handoff);
  if (!session.changesAbove || high === null) return SnapshotVersions.none;
  const top = BigInt(high);
  const from = top - VERSION_WINDOW > 0n ? top - VERSION_WINDOW : 0n;
  const seen = await session.changesAbove(String(from), Number(VERSION_WINDOW) + 1);
  return SnapshotVersions.fromWindow(
    top,
    seen.filter((c) => isDone(contained, c)),
    keyOf,
  );
}

/** The highest sequence a position knows of (null: none, or a position without sequences). */
function windowTop(at: Cursor): string | null {
  if (at.kind === 'gaps') return at.unanchored ? null : at.seq;
  return at.kind === 'xid' ? (at.seq ?? null) : null;
}

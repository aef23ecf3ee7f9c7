import { type Cursor, parsePgSnapshot } from './cursor.js';
import type { SnapshotVersions } from './snapshot-versions.js';

/**
 * What a table's stored offset keeps of its snapshot rows' versions while the stream may still re-read a change
 * those rows already hold (see SnapshotCover).
 */
export interface CoveredOffset {
  /** Canonical key → the version of its snapshot row. */
  keys: Array<[key: string, version: string]>;
  /** Watermark positions: the hand-off's xmax; every entry goes once the stream's xmin reaches it. */
  xmax?: string;
}

interface TableCover {
  keys: Map<string, bigint>;
  xmax: bigint | null;
  /** The offset form, built once per change (records share it). */
  offset: CoveredOffset | null;
}

/**
 * The rule "a change the snapshot row already holds is not streamed again below the row's version", kept across
 * restarts. After a snapshot the stream re-reads the changes its hand-off did not count as done; one of them can
 * sit below a done change of the same key that the row reflects (SnapshotVersions.covers). Only keys whose row
 * version is above the snapshot's floor are kept (at most the 10,000 numbers of the version window per table),
 * they travel in the table's offset so that a restart inside the hand-off window still knows them, and each goes
 * as soon as the stream has every change below its version done: then no change the rule could skip is left.
 */
export class SnapshotCover {
  private readonly tables = new Map<string, TableCover>();

  /** Keys of `table` whose snapshot rows got versions above the floor, as of `handoff`. */
  add(table: string, handoff: Cursor, versions: SnapshotVersions): void {
    const keys = new Map<string, bigint>();
    const prefix = `${table}\u0000`;
    for (const [key, version] of versions.entries()) {
      if (key.startsWith(prefix)) keys.set(key.slice(prefix.length), version);
    }
    this.put(table, keys, handoff.kind === 'xid' ? parsePgSnapshot(handoff.base).xmax : null);
  }

  /** What a table's stored offset kept (ignored when absent or mis-shaped: the rule then has nothing to skip). */
  restore(table: string, stored: unknown): void {
    if (stored === null || typeof stored !== 'object') return;
    const s = stored as Partial<CoveredOffset>;
    if (!Array.isArray(s.keys)) return;
    const keys = new Map<string, bigint>();
    for (const e of s.keys) {
      if (Array.isArray(e) && typeof e[0] === 'string' && /^\d+$/.test(String(e[1]))) keys.set(e[0], BigInt(e[1]));
    }
    this.put(table, keys, typeof s.xmax === 'string' && /^\d+$/.test(s.xmax) ? BigInt(s.xmax) : null);
  }

  /** Whether the snapshot row of `table`'s key (canonical) already holds the streamed change at `seq`. */
  covers(table: string, canonical: string, seq: bigint): boolean {
    const v = this.tables.get(table)?.keys.get(canonical);
    return v !== undefined && v > seq;
  }

  /**
   * Drops what a stream at `at` no longer needs: a key once every change below its version is done there (gap
   * tracking: no open gap below it and the high mark at or above it), all keys of a table once the watermark passed
   * every transaction the hand-off could not see.
   */
  release(at: Cursor): void {
    for (const [table, t] of this.tables) {
      let changed = false;
      if (at.kind === 'gaps') {
        if (at.unanchored) continue;
        let below = BigInt(at.seq);
        for (const [g] of at.gaps) if (BigInt(g) - 1n < below) below = BigInt(g) - 1n;
        for (const [key, v] of t.keys) {
          if (v <= below) {
            t.keys.delete(key);
            changed = true;
          }
        }
      } else if (at.kind === 'xid') {
        if (t.xmax === null || parsePgSnapshot(at.base).xmin >= t.xmax) {
          t.keys.clear();
          changed = true;
        }
      } else {
        t.keys.clear(); // no sequence versions there: nothing was kept
        changed = true;
      }
      if (t.keys.size === 0) this.tables.delete(table);
      else if (changed) t.offset = null;
    }
  }

  /** The table's part of its offset, or undefined once nothing is kept (the offset then drops it). */
  offsetFor(table: string): CoveredOffset | undefined {
    const t = this.tables.get(table);
    if (!t) return undefined;
    t.offset ??= {
      keys: [...t.keys].map(([k, v]) => [k, String(v)]),
      ...(t.xmax !== null ? { xmax: String(t.xmax) } : {}),
    };
    return t.offset;
  }

  /** Keys kept, over all tables. */
  get size(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.keys.size;
    return n;
  }

  private put(table: string, keys: Map<string, bigint>, xmax: bigint | null): void {
    if (keys.size === 0) this.tables.delete(table);
    else this.tables.set(table, { keys, xmax, offset: null });
  }
}

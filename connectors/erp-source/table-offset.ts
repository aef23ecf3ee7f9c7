import type { Cursor } from './cursor.js';
import type { CoveredOffset } from './snapshot-cover.js';
import type { StoredSignalState } from './signals.js';

/** A table's stored offset: its stream position, plus the snapshot progress while one runs. */
export type TableOffset = {
  stream: Cursor;
  /**
   * While the table's snapshot runs: first the deletes the change table shows (`deletes_after`: the last change
   * sequence checked), then its rows (`deletes_after: 'done'`; offsets without the field are from before deletes
   * were checked): the last key emitted and rows so far.
   */
  snapshot?: { last_key: string[] | null; rows: number; deletes_after?: string };
  /** Signal-driven incremental snapshots: the task-wide state, newest copy (highest step) wins on restart. */
  signals?: StoredSignalState;
  /** Snapshot row versions the stream must not go below, until it passed them (SnapshotCover). */
  covered?: CoveredOffset;
};

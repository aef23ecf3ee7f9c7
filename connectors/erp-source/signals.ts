import { DataError, boundedText, describeValue } from '../../runtime/api/index.js';
import { parseTableName } from './dialects/common.js';
import { qualified } from './model.js';
import { type SignalDigest, isSignalDigest, newSince } from './signal-digest.js';

/**
 * Ad-hoc incremental snapshots driven by a signal table in Debezium's shape `(id, type, data)`. The task polls
 * the signal table itself (no trigger on it is needed) and remembers which signal ids it has acted on in the
 * offsets it writes (as a fixed-size digest, signal-digest.ts), so a signal is acted on once even across restarts.
 */

/** One table waiting for or in an incremental snapshot. */
export interface IncrementalTable {
  table: string;
  /** Text key values of the last row emitted; null before the first chunk. */
  last_key: string[] | null;
  rows: number;
}

/**
 * The task-wide signal state while the task runs. Each table partition keeps only its own last offset, so `step`
 * (raised on every change) tells which stored copy is newest.
 */
export interface SignalState {
  step: number;
  /** Signal ids already acted on that were still in the signal table at the last read (in memory only). */
  done: string[];
  /** Tables to snapshot, the first one in progress. */
  queue: IncrementalTable[];
  /**
   * Loaded from an offset and not yet matched against the signal table: the digest of the ids acted on as of that
   * offset (`done` is empty until the next read resolves it).
   */
  unresolved?: SignalDigest;
}

/**
 * The state as stored (JSON) in every offset the task writes while it is not empty: the ids acted on travel as a
 * digest of constant size, however many rows the signal table keeps. `done` (the ids themselves) is the format
 * before the digest; such offsets still load.
 */
export interface StoredSignalState {
  step: number;
  queue: IncrementalTable[];
  seen?: SignalDigest;
  /** Legacy: the ids themselves. */
  done?: string[];
}

export type Signal =
  | { id: string; kind: 'execute-snapshot'; tables: string[] }
  | { id: string; kind: 'stop-snapshot'; tables: string[] | null }
  | { id: string; kind: 'ignored'; reason: string };

export function emptySignalState(): SignalState {
  return { step: 0, done: [], queue: [] };
}

/** The newest signal state among the stored table offsets (highest step); both offset formats load. */
export function newestSignalState(stored: ReadonlyArray<unknown>): SignalState {
  let best: StoredSignalState | null = null;
  for (const s of stored) {
    if (isStoredSignalState(s) && s.step > (best?.step ?? 0)) best = s;
  }
  if (!best) return emptySignalState();
  const queue = best.queue.map((t) => ({ ...t, last_key: t.last_key && [...t.last_key] }));
  // A legacy offset lists the ids; a current one is resolved against the table at the first read.
  if (best.seen) return { step: best.step, done: [], queue, unresolved: best.seen };
  return { step: best.step, done: [...(best.done ?? [])], queue };
}

/** The form written into offsets. */
export function storedSignalState(s: SignalState, seen: SignalDigest): StoredSignalState {
  return {
    step: s.step,
    seen: s.unresolved ?? seen,
    queue: s.queue.map((q) => ({ ...q, last_key: q.last_key && [...q.last_key] })),
  };
}

function isStoredSignalState(v: unknown): v is StoredSignalState {
  if (!v || typeof v !== 'object') return false;
  const s = v as Partial<StoredSignalState>;
  if (typeof s.step !== 'number' || !Array.isArray(s.queue)) return false;
  if (s.seen !== undefined) return isSignalDigest(s.seen);
  return Array.isArray(s.done) && s.done.every((id) => typeof id === 'string');
}

/** Reads one signal row; malformed data is a DataError naming the signal id. */
export function parseSignal(row: Record<string, unknown>, defaultSchema: string): Signal {
  const id = String(row.id ?? '');
  const type = String(row.type ?? '');
  if (type !== 'execute-snapshot' && type !== 'stop-snapshot') {
    return { id, kind: 'ignored', reason: `signal type ${JSON.stringify(type)} is not supported` };
  }
  let data: unknown = {};
  const text = row.data;
  if (text !== null && text !== undefined && String(text).trim() !== '') {
    try {
      data = JSON.parse(String(text));
    } catch {
      throw new DataError(
        `Signal ${JSON.stringify(id)}: data is not JSON: ${JSON.stringify(boundedText(String(text), 200))}`,
      );
    }
  }
  const d = (data ?? {}) as Record<string, unknown>;
  const snapshotType = d.type === undefined ? 'incremental' : String(d.type).toLowerCase();
  if (snapshotType !== 'incremental') {
    return {
      id,
      kind: 'ignored',
      reason: `snapshot type ${JSON.stringify(d.type)} is not supported (incremental only)`,
    };
  }
  const collections = d['data-collections'];
  if (collections === undefined && type === 'stop-snapshot') return { id, kind: 'stop-snapshot', tables: null };
  if (!Array.isArray(collections) || collections.some((c) => typeof c !== 'string')) {
    throw new DataError(
      `Signal ${JSON.stringify(id)}: "data-collections" must be an array of table names, got ${describeValue(collections)}`,
    );
  }
  const tables = (collections as string[]).map((c) => qualified(parseTableName(c, defaultSchema)));
  return type === 'execute-snapshot' ? { id, kind: 'execute-snapshot', tables } : { id, kind: 'stop-snapshot', tables };
}

/**
 * Applies the signal rows now in the table to the state: new execute-snapshot signals queue the tables this task
 * captures (a table already queued restarts from its beginning, like a re-run in Debezium), stop-snapshot removes
 * them. Returns whether anything changed, and what was done for the log.
 */
export function applySignals(
  state: SignalState,
  read: readonly Signal[],
  captured: ReadonlySet<string>,
): { changed: boolean; actions: Array<Record<string, unknown>> } {
  let signals = read;
  const present = new Set(signals.map((s) => s.id));
  const actions: Array<Record<string, unknown>> = [];
  if (state.unresolved) {
    // The stored digest against the ids now in the table: whatever it does not cover is new since that offset.
    const fresh = newSince(state.unresolved, [...present]);
    if (fresh === null) {
      // Too many rows added/removed since the stored offset to tell them apart: act on them again rather than
      // lose one (an execute-snapshot re-run re-reads a table; versions make the repeated rows harmless). Stops
      // go first, so that an old stop re-run cannot cancel a snapshot that an execute in the table asks for.
      signals = [
        ...signals.filter((s) => s.kind === 'stop-snapshot'),
        ...signals.filter((s) => s.kind !== 'stop-snapshot'),
      ];
      actions.push({
        signals_unresolved: present.size,
        ignored: 'the stored signal digest does not decode; acting on every signal in the table again',
      });
      state.done = [];
    } else {
      state.done = [...present].filter((id) => !fresh.has(id));
    }
    delete state.unresolved;
  }
  const done = state.done.filter((id) => present.has(id));
  let changed = done.length !== state.done.length;
  state.done = done;
  const seen = new Set(state.done);
  for (const s of signals) {
    if (seen.has(s.id)) continue;
    seen.add(s.id);
    state.done.push(s.id);
    changed = true;
    if (s.kind === 'ignored') {
      actions.push({ signal: s.id, ignored: s.reason });
    } else if (s.kind === 'execute-snapshot') {
      const mine = s.tables.filter((t) => captured.has(t));
      state.queue = state.queue.filter((q) => !mine.includes(q.table));
      for (const t of mine) state.queue.push({ table: t, last_key: null, rows: 0 });
      actions.push({ signal: s.id, snapshot: mine, not_captured_here: s.tables.filter((t) => !captured.has(t)) });
    } else {
      const stopped = state.queue.filter((q) => s.tables === null || s.tables.includes(q.table)).map((q) => q.table);
      state.queue = state.queue.filter((q) => !stopped.includes(q.table));
      actions.push({ signal: s.id, stopped });
    }
  }
  if (changed) state.step += 1;
  return { changed, actions };
}

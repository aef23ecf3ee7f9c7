import { DataError, ErpStreamError, RetriableError, type SinkRecord } from '../../runtime/api/index.js';
import type { Candidate, Readiness } from './dependencies.js';
import type { Delivery, Removal } from './destinations/destination.js';
import { type LedgerEntry, type LedgerWrite, type TargetRef, entryOf } from './ledger.js';
import type { LookupResult } from './origin-lookup.js';
import { type ParkedRecord, WAITING_PREFIX } from './park-store.js';
import { type EntityId, parseVersion } from './record-fields.js';
import type { ShapedRecord } from './shaping.js';
import type { Row } from './sql/client.js';
import { rowValue } from './template.js';

/**
 * The lookup sink's decisions, without I/O: which records are stale, what each looked-up row means for each
 * destination (deliver, keep, withdraw), what waits and what goes to the DLQ. The task reads (ledger, park, origin,
 * dependencies), calls these, and writes what they return.
 */

// Parked rows carry it, so it lives with the park store; re-exported for the planner's callers.
export { WAITING_PREFIX };

/** One key's work in a cycle: a fresh record, a parked one being re-checked, or a re-evaluation a dependency asked for. */
export interface Work {
  readonly idText: string;
  readonly id: EntityId;
  /** The version to decide on; a pure re-evaluation gets the ledger's or the park's in resolveWorks(). */
  version: bigint;
  readonly record: SinkRecord | null;
  parked: ParkedRecord | null;
  /** A dependency topic named this id: where it goes is decided again even if its version was delivered. */
  reeval: boolean;
  /** The dependency topic's record that asked for the re-evaluation: kept in the park when the entity waits. */
  trigger?: SinkRecord;
  /**
   * A targeted re-delivery (repair, replay): decided at the origin's current version even if the ledger says it was
   * delivered (the destination may have lost it), and sent again to the targets that should hold it.
   */
  force?: boolean;
  /** Targets found holding the entity that the ledger does not list (a repair's extra rows): withdrawn unless wanted. */
  extraTargets?: readonly string[];
}

export interface Resolved {
  /** Works that go on to the lookup and the checks. */
  readonly live: Work[];
  readonly staleDropped: number;
  readonly superseded: number;
  /** Parked rows that are obsolete (at or below a version). */
  readonly unpark: Array<{ entityId: string; version: bigint }>;
}

/**
 * Whether a ledger entry makes a fresh record of this version redundant. `routed` names the targets the entity's
 * looked-up rows route to now (read in parallel with the ledger).
 */
function covers(
  l: LedgerEntry | undefined,
  version: bigint,
  routed: (idText: string) => readonly string[],
  idText: string,
): boolean {
  if (!l) return false;
  if (l.version !== version) return l.version > version;
  if (l.deleted) return true;
  // At the same version an entry held nowhere (withdrawn, waiting) is decided again: a registration may be back.
  if (l.targets.length === 0) return false;
  // So is one whose rows route to a target that does not hold this version (the connector's destination.table or
  // topic changed, or a target is listed at -1 by intentWritesOf): the record is what fills it, and planEntity
  // withdraws the targets no longer routed to.
  return routed(idText).every((t) => l.targets.some((h) => h.target === t && h.version >= version));
}

/**
 * The targets each id's looked-up rows route to, for resolveWorks: a row whose target cannot be rendered (a template
 * field missing, e.g. an unregistered row) routes nowhere. Computed on demand, once per id.
 */
export function routedTargets(
  rows: ReadonlyMap<string, readonly Row[]>,
  targetOf: (row: Row, entityId: string) => string,
): (idText: string) => readonly string[] {
  const memo = new Map<string, readonly string[]>();
  return (idText) => {
    let out = memo.get(idText);
    if (out === undefined) {
      const targets = new Set<string>();
      // Not routable (null): decided (and reported) by planEntity when the record is live for another reason.
      for (const row of rows.get(idText) ?? []) {
        const t = targetOrNull({ targetOf }, row, idText);
        if (t !== null) targets.add(t);
      }
      out = [...targets];
      memo.set(idText, out);
    }
    return out;
  };
}

/**
 * Drops stale works and settles each work's version and park entry. A fresh record is stale when the ledger or
 * the park already has its version (the ledger: at every target its rows route to, see covers()); a parked one
 * when the ledger moved past it; a re-evaluation takes the newest
 * version known (ledger or park) and is dropped when there is none (the record itself will come).
 */
export function resolveWorks(
  input: readonly Work[],
  ledger: ReadonlyMap<string, LedgerEntry>,
  parked: ReadonlyMap<string, ParkedRecord>,
  routed: (idText: string) => readonly string[] = () => [],
): Resolved {
  const live: Work[] = [];
  const unpark: Array<{ entityId: string; version: bigint }> = [];
  let staleDropped = 0;
  let superseded = 0;
  for (const w of input) {
    const l = ledger.get(w.idText);
    if (w.record !== null && w.version >= 0n) {
      const p = w.parked ?? parked.get(w.idText);
      const stale = covers(l, w.version, routed, w.idText) || (p !== undefined && p.version >= w.version);
      if (stale) staleDropped++;
      if (!stale) {
        if (p !== undefined && w.parked === null) {
          superseded++;
          w.parked = p;
        }
        live.push(w);
        continue;
      }
      if (!w.reeval) continue;
    } else if (!w.reeval && w.parked !== null) {
      if (l && l.version > w.version) {
        unpark.push({ entityId: w.idText, version: l.version });
        continue;
      }
      live.push(w);
      continue;
    }
    // A re-evaluation: the newest version this sink knows of the entity.
    const p = w.parked ?? parked.get(w.idText) ?? null;
    // A forced one also starts from a delete's version (the delete is applied again) and, knowing nothing, from 0:
    // the origin row's version (lookup.version.column) lifts it, and any live record is newer.
    // An entry written only ahead of a send (version -1, intentWritesOf) knows no version either.
    const lv = l && (!l.deleted || w.force) && l.version >= 0n ? l.version : w.force ? 0n : -1n;
    const pv = p ? p.version : -1n;
    if (lv < 0n && pv < 0n) continue;
    if (p && pv < lv) unpark.push({ entityId: w.idText, version: pv });
    live.push({ ...w, version: lv > pv ? lv : pv, parked: pv >= lv ? p : null, record: w.record });
  }
  return { live, staleDropped, superseded, unpark };
}

/** The looked-up rows of the live works, as dependency candidates (one per row), and what needs no check. */
export interface Candidates {
  readonly candidates: Array<Candidate & { work: Work }>;
  /** Works whose origin row is gone. */
  readonly gone: Work[];
  readonly poisoned: Array<{ work: Work; error: Error }>;
  /** The version each work is delivered under (the row's when lookup.version.column is newer). */
  readonly versions: Map<string, bigint>;
  /** Works whose read is behind the event (a lagging replica), with the reason. */
  readonly lagging: Map<string, string>;
}

export function candidatesOf(works: readonly Work[], lookup: LookupResult, versionColumn: string | null): Candidates {
  const candidates: Array<Candidate & { work: Work }> = [];
  const gone: Work[] = [];
  const poisoned: Array<{ work: Work; error: Error }> = [];
  const versions = new Map<string, bigint>();
  const lagging = new Map<string, string>();
  for (const w of works) {
    const error = lookup.poison.get(w.idText);
    if (error) {
      poisoned.push({ work: w, error });
      continue;
    }
    const rows = lookup.rows.get(w.idText);
    if (!rows || rows.length === 0) {
      gone.push(w);
      continue;
    }
    let version = w.version;
    // A forced re-delivery (repair, replay) with no record of its own starts from the ledger's version, which is
    // only a claim (a repair runs because the ledger may be wrong): the origin row's version is the truth then.
    // Taking the ledger's as an event version would call the origin "lagging" and never deliver, or label the
    // origin's state with a version it does not have.
    const fromLedger = w.force === true && w.record === null && w.parked === null;
    let rowVersion: bigint | null = null;
    for (const [i, row] of rows.entries()) {
      if (versionColumn) {
        const v = rowValue(row, versionColumn);
        if (v !== null && v !== undefined) {
          const rv = parseVersion(v, `lookup.version.column ${versionColumn}`);
          if (rowVersion === null || rv > rowVersion) rowVersion = rv;
          if (rv > version) version = rv;
          // The read is older than the event: delivering it would label old state as new.
          if (rv < w.version && !fromLedger)
            lagging.set(w.idText, `origin row version ${rv} is older than the record version ${w.version}`);
        }
      }
      candidates.push({ key: `${w.idText}\u0000${i}`, idText: w.idText, id: w.id, row, work: w });
    }
    if (fromLedger && rowVersion !== null) version = rowVersion;
    versions.set(w.idText, version);
  }
  return { candidates, gone, poisoned, versions, lagging };
}

/** A delivery decided for a batch, with the key the destination will write it under (for the ledger). */
export type PlannedDelivery = Delivery & { readonly work: Work; readonly deliveredKey: string | null };
/** A removal: the origin row is gone, or the entity no longer routes to this target (withdrawal). */
export type PlannedRemoval = Removal & { readonly work: Work; readonly kind: 'gone' | 'withdraw' };

/** What one entity's ledger entry becomes, once the destination has answered. */
export interface EntityOutcome {
  readonly work: Work;
  readonly version: bigint;
  /** Targets that keep what they hold (already at this version, or waiting for a newer one). */
  readonly keep: readonly TargetRef[];
  readonly deleted: boolean;
  readonly previous: LedgerEntry | undefined;
}

export interface Plan {
  readonly deliveries: PlannedDelivery[];
  readonly removals: PlannedRemoval[];
  /** Entities whose ledger entry is written after the send (delivered, withdrawn or deleted). */
  readonly outcomes: EntityOutcome[];
  readonly toPark: ParkedRecord[];
  readonly unpark: Array<{ entityId: string; version: bigint }>;
  /** Records that will never be delivered, with the reason (sent to the DLQ before anything of the batch). */
  readonly dlq: Array<{ work: Work; error: Error }>;
  /** Entities still waiting on a dependency after this batch (parked, or not parked for lack of a record). */
  readonly waiting: Work[];
  filtered: number;
}

/** What planBatch needs besides the reads: the destination's routing and the delivery chain. */
export interface PlanContext {
  readonly now: number;
  readonly parkMaxDurationMs: number;
  readonly deleteMode: 'delete' | 'ignore';
  readonly withdrawMode: 'delete' | 'ignore';
  /** Waiting records (soft dependencies) are re-checked this often as a safety net; dependency topics wake them. */
  readonly waitingRecheckMs: number;
  backoff(attempts: number): number;
  targetOf(row: Row, entityId: string): string;
  shape?(row: Row, entityId: string, version: bigint, target: string, record: SinkRecord | null): ShapedRecord | null;
  deliveredKey?(d: Delivery): string | null;
  encode(record: SinkRecord): string;
}

/**
 * Decides a batch: per entity, each ready row's target gets the current version unless it already holds it, each
 * target it held and no longer routes to gets a withdrawal, and what is not ready waits (parked; a hard dependency
 * past park.max.duration.ms goes to the DLQ; a soft one waits without expiring).
 */
export function planBatch(
  c: Candidates,
  readiness: ReadonlyMap<string, Readiness>,
  ledger: ReadonlyMap<string, LedgerEntry>,
  ctx: PlanContext,
): Plan {
  const plan: Plan = {
    deliveries: [],
    removals: [],
    outcomes: [],
    toPark: [],
    unpark: [],
    dlq: [],
    waiting: [],
    filtered: 0,
  };
  for (const { work, error } of c.poisoned) drop(plan, work, error);
  for (const w of c.gone) planGone(plan, w, ledger.get(w.idText), ctx);
  const byWork = new Map<Work, Array<Candidate & { work: Work }>>();
  for (const cand of c.candidates) {
    const list = byWork.get(cand.work);
    if (list) list.push(cand);
    else byWork.set(cand.work, [cand]);
  }
  for (const [w, rows] of byWork) {
    try {
      planEntity(plan, w, rows, c, readiness, ledger.get(w.idText), ctx);
    } catch (e) {
      // A transient failure (a code table being reloaded) is no reason to dead-letter: the batch is retried.
      if (e instanceof ErpStreamError && e.retriable) {
        throw e instanceof RetriableError ? e : new RetriableError(e.message, { cause: e });
      }
      drop(plan, w, e as Error);
    }
  }
  return plan;
}

/** A record that will never be delivered: to the DLQ, and out of the park. */
function drop(plan: Plan, w: Work, error: Error): void {
  plan.dlq.push({ work: w, error });
  if (w.parked) plan.unpark.push({ entityId: w.idText, version: w.parked.version });
}

function planGone(plan: Plan, w: Work, prev: LedgerEntry | undefined, ctx: PlanContext): void {
  // A forced re-delivery of an entity nobody holds and the origin does not have: nothing to do, nothing to record.
  if (w.force && !prev && (w.extraTargets ?? []).length === 0) return;
  if (ctx.deleteMode === 'delete' && (w.force === true || (prev && !prev.deleted))) {
    for (const t of goneTargets(w, prev)) {
      plan.removals.push({
        entityId: w.idText,
        version: w.version,
        target: t.target,
        deliveredKey: t.deliveredKey,
        work: w,
        kind: 'gone',
        // An extra target the ledger does not list (version -1): the version it holds is unknown (destination.ts).
        ...(w.force === true && t.version < 0n ? { unguarded: true } : {}),
      });
    }
  }
  plan.outcomes.push({ work: w, version: w.version, keep: [], deleted: true, previous: prev });
  if (w.parked) plan.unpark.push({ entityId: w.idText, version: w.version });
}

/**
 * Where a delete removes the entity from: the targets the ledger lists; for a forced re-delivery also where a delete
 * already went (applied again: a restored backup may hold the row) and the extra targets it was found in.
 */
function goneTargets(w: Work, prev: LedgerEntry | undefined): TargetRef[] {
  const out = new Map<string, TargetRef>();
  for (const t of prev && !prev.deleted ? prev.targets : []) out.set(t.target, t);
  if (w.force && prev?.deleted && prev.target !== null) {
    out.set(prev.target, { target: prev.target, deliveredKey: prev.deliveredKey, version: prev.version });
  }
  for (const t of w.extraTargets ?? []) if (!out.has(t)) out.set(t, { target: t, deliveredKey: null, version: -1n });
  return [...out.values()];
}

function planEntity(
  plan: Plan,
  w: Work,
  rows: ReadonlyArray<Candidate & { work: Work }>,
  c: Candidates,
  readiness: ReadonlyMap<string, Readiness>,
  prev: LedgerEntry | undefined,
  ctx: PlanContext,
): void {
  const version = c.versions.get(w.idText) ?? w.version;
  const held = new Map((prev && !prev.deleted ? prev.targets : []).map((t) => [t.target, t]));
  // Extra targets (a repair found the entity there, the ledger does not list it): withdrawn unless still wanted.
  for (const t of w.extraTargets ?? []) if (!held.has(t)) held.set(t, { target: t, deliveredKey: null, version: -1n });
  const lag = c.lagging.get(w.idText);
  let hard: { reason: string; waitingOn: string | null } | null = lag ? { reason: lag, waitingOn: null } : null;
  let soft: string | null = null;
  /** Targets this entity still routes to (ready, filtered, or waiting on a hard dependency). */
  const wanted = new Set<string>();
  const ready = new Map<string, { row: Row; shaped: ShapedRecord | undefined }>();
  for (const cand of lag ? [] : rows) {
    const r = readiness.get(cand.key) ?? { ready: true as const };
    if (!r.ready) {
      if (r.poison) throw r.poison;
      if (r.soft) {
        soft ??= r.reason;
        continue;
      }
      hard ??= { reason: r.reason, waitingOn: r.waitingOn };
      const t = targetOrNull(ctx, cand.row, w.idText);
      if (t !== null) wanted.add(t);
      continue;
    }
    const target = ctx.targetOf(cand.row, w.idText);
    if (ready.has(target) || wanted.has(target)) continue;
    const shaped = ctx.shape?.(cand.row, w.idText, version, target, w.record ?? null);
    wanted.add(target);
    if (shaped === null) {
      // The delivery chain dropped it (a Filter): the target keeps what it has.
      plan.filtered++;
      continue;
    }
    ready.set(target, { row: cand.row, shaped });
  }
  if (lag) for (const t of held.keys()) wanted.add(t);

  const keep: TargetRef[] = [];
  let changed = false;
  for (const [target, { row, shaped }] of ready) {
    const h = held.get(target);
    // A forced re-delivery sends again what the ledger says the target holds: the target may have lost it.
    if (h && h.version >= version && w.force !== true) {
      keep.push(h);
      continue;
    }
    const d: Delivery = { entityId: w.idText, version, row, target, ...(shaped ? { shaped } : {}) };
    plan.deliveries.push({ ...d, work: w, deliveredKey: shaped ? (ctx.deliveredKey?.(d) ?? null) : null });
    changed = true;
  }
  for (const [target, h] of held) {
    if (ready.has(target)) continue;
    if (wanted.has(target)) {
      keep.push(h);
      continue;
    }
    changed = true;
    if (ctx.withdrawMode === 'delete') {
      plan.removals.push({
        entityId: w.idText,
        version,
        target,
        deliveredKey: h.deliveredKey,
        work: w,
        kind: 'withdraw',
        ...(w.force === true && h.version < 0n ? { unguarded: true } : {}),
      });
    }
  }
  if (changed) plan.outcomes.push({ work: w, version, keep, deleted: false, previous: prev });

  if (hard === null && (ready.size > 0 || soft === null)) {
    if (w.parked) plan.unpark.push({ entityId: w.idText, version: w.parked.version });
    return;
  }
  // Something still waits: a hard dependency (expires) or, with nothing ready, a registration (never expires).
  plan.waiting.push(w);
  const firstParkedAt = w.parked?.firstParkedAt ?? ctx.now;
  if (hard !== null && ctx.now - firstParkedAt >= ctx.parkMaxDurationMs) {
    drop(
      plan,
      w,
      new DataError(
        `Parked for ${ctx.now - firstParkedAt} ms (park.max.duration.ms=${ctx.parkMaxDurationMs}): ${hard.reason}`,
      ),
    );
    return;
  }
  // A delivered entity that lost its last registration waits too (visible as waiting); the registration's record
  // stands in for the entity's, which was committed long ago.
  const own = w.record ?? (w.parked ? null : (w.trigger ?? null));
  const record = own ? ctx.encode(own) : (w.parked?.record ?? null);
  if (record === null) return;
  const attempts = w.record ? 0 : (w.parked?.attempts ?? 0) + 1;
  plan.toPark.push({
    entityId: w.idText,
    version: w.version,
    record,
    reason: hard !== null ? hard.reason : `${WAITING_PREFIX}${soft}`,
    waitingOn: hard?.waitingOn ?? null,
    firstParkedAt,
    nextCheckAt: ctx.now + (hard !== null ? ctx.backoff(attempts) : ctx.waitingRecheckMs),
    attempts,
  });
}

function targetOrNull(ctx: Pick<PlanContext, 'targetOf'>, row: Row, id: string): string | null {
  try {
    return ctx.targetOf(row, id);
  } catch {
    return null;
  }
}

/** The ledger write of one entity after the send: what it kept, what was delivered and what refused a withdrawal. */
export function ledgerWriteOf(
  o: EntityOutcome,
  delivered: ReadonlyArray<PlannedDelivery>,
  unwithdrawn: ReadonlyArray<PlannedRemoval>,
): LedgerWrite {
  const targets: TargetRef[] = [...o.keep];
  for (const d of delivered) targets.push({ target: d.target, deliveredKey: d.deliveredKey, version: d.version });
  const held = new Map((o.previous?.targets ?? []).map((t) => [t.target, t]));
  for (const r of unwithdrawn) {
    const h = held.get(r.target);
    if (h) targets.push(h);
  }
  return { entityId: o.work.idText, ...entryOf(o.version, targets, o.deleted, o.previous) };
}

/**
 * Ledger writes made before a batch is sent, for the entities it delivers to a target their entry does not list: the
 * entry then names every target that may hold the entity, so a crash after the send and before the ledger write does
 * not leave a copy nothing would ever withdraw (the replay decides from the origin as it is then, and a registration
 * removed meanwhile would send nothing to that target). The new targets are listed at version -1 (held at an unknown
 * version: delivered again when still wanted, withdrawn otherwise); the entry keeps its version, or -1 when there was
 * none (not delivered: no staleness, no dependency). Targets already listed need nothing: the entry names them.
 */
export function intentWritesOf(plan: Plan): LedgerWrite[] {
  const byWork = new Map<Work, PlannedDelivery[]>();
  for (const d of plan.deliveries) byWork.set(d.work, [...(byWork.get(d.work) ?? []), d]);
  const out: LedgerWrite[] = [];
  for (const o of plan.outcomes) {
    const held = o.previous && !o.previous.deleted ? o.previous.targets : [];
    const listed = new Set(held.map((t) => t.target));
    const fresh = (byWork.get(o.work) ?? []).filter((d) => !listed.has(d.target));
    if (fresh.length === 0) continue;
    const targets = [...held, ...fresh.map((d) => ({ target: d.target, deliveredKey: d.deliveredKey, version: -1n }))];
    out.push({ entityId: o.work.idText, ...entryOf(o.previous?.version ?? -1n, targets, false, o.previous) });
  }
  return out;
}

import type { ErrorCode } from './error-codes.js';
import type { KafkaAccess, Logger, RecordTransforms } from './plugin.js';
import type { SinkRecord } from './record.js';

/**
 * Reconciliation capability: a sink plugin that can say whether a destination holds exactly what it should. The
 * runtime (REST, CLI through REST) drives it per connector of a customer; the plugin reads its own origin, ledger
 * and destination with its own SQL layer, so the runtime never imports connector internals.
 */

/** The four ways a (entity, target) pair can be out of step. */
export const RECONCILE_CLASSES = ['missing', 'stale', 'extra', 'drift'] as const;
export type ReconcileClass = (typeof RECONCILE_CLASSES)[number];

export type ReconcileCounts = Record<ReconcileClass, number>;

/** One (entity, target) pair out of step, with what each side holds (versions as decimal text; null: nothing). */
export interface ReconcileDifference {
  readonly kind: ReconcileClass;
  readonly connector: string;
  readonly entity: string;
  /** The ledger's destination name (`destination.name`). */
  readonly destination: string;
  readonly entityId: string;
  /** Topic, table or URL. Empty when the origin has the entity but routes it nowhere (and nothing holds it). */
  readonly target: string;
  /** What the origin says should be there; null when it should not be there (or the origin has no version). */
  readonly originVersion: string | null;
  readonly ledgerVersion: string | null;
  readonly destinationVersion: string | null;
  /** Whether the origin routes the entity to this target. */
  readonly shouldHold: boolean;
}

export interface ReconcileConnectorReport {
  readonly connector: string;
  readonly entity: string;
  readonly destination: string;
  readonly destinationType: string;
  /** Which sides were compared: the destination is read where it can be (jdbc tables, Kafka topics). */
  readonly compared: { readonly destination: boolean; readonly versions: boolean };
  /** (entity, target) pairs each side holds; `waiting`: entities whose dependency is not met yet (left alone). */
  readonly totals: {
    readonly origin: number;
    readonly ledger: number;
    readonly destination: number | null;
    readonly waiting: number;
  };
  readonly counts: ReconcileCounts;
  /** The first differences of each class, in key order (at most `sample` each). */
  readonly samples: Record<ReconcileClass, ReconcileDifference[]>;
  /** Targets read at the destination. */
  readonly targets: readonly string[];
  readonly notes: readonly string[];
  readonly seconds: number;
}

export interface ReconcileRequest {
  readonly connector: string;
  /** The connector's config with `${…}` placeholders resolved (never shown back to anyone). */
  readonly config: Readonly<Record<string, string>>;
  /** Kafka, to read a Kafka destination; without it only the ledger is compared for those. */
  readonly kafka?: KafkaAccess;
  /**
   * Builds the connector's transform chains, as SinkTaskContext.transforms does for its tasks: the input chain
   * (`transforms`, which decides whose record a row is, e.g. a DomainRouter) and the delivery chain (`delivery.`,
   * which may filter or refuse a row). Absent: neither runs, and every routed row is expected at its target.
   */
  readonly transforms?: (
    props: Readonly<Record<string, string>>,
    prefix: string,
  ) => Promise<RecordTransforms<SinkRecord>>;
  /** Differences kept per class in the report. */
  readonly sample: number;
  /** Every difference in key order, for a caller that acts on them (repair) without holding them all. */
  readonly onDifference?: (d: ReconcileDifference) => void | Promise<void>;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Where sorted runs are spilled (default: the OS temp dir). */
  readonly tempDir?: string;
  /** Entries held in memory per sorted run (the memory bound; default 100,000). */
  readonly runEntries?: number;
}

export type ReconcileHook = (request: ReconcileRequest) => Promise<ReconcileConnectorReport>;

/** A plugin descriptor that offers reconciliation (the LookupSink does). */
export interface ReconcilablePlugin {
  readonly reconcile: ReconcileHook;
}

export function reconcileHookOf(plugin: unknown): ReconcileHook | undefined {
  const hook = (plugin as Partial<ReconcilablePlugin> | null | undefined)?.reconcile;
  return typeof hook === 'function' ? hook : undefined;
}

export function emptyCounts(): ReconcileCounts {
  return { missing: 0, stale: 0, extra: 0, drift: 0 };
}

/** The customer-wide answer: every reconcilable connector of the customer. */
export interface ReconcileReport {
  readonly customer: string;
  readonly inSync: boolean;
  readonly counts: ReconcileCounts;
  /** Per class, the first differences over all connectors. */
  readonly samples: Record<ReconcileClass, ReconcileDifference[]>;
  readonly connectors: readonly ReconcileConnectorReport[];
  /** The audit entry of this run (null where no operations log is available). */
  readonly operationId: string | null;
  readonly startedAt: string;
  readonly finishedAt: string;
}

/** Adds up connector reports into the customer's report. */
export function customerReport(
  customer: string,
  reports: readonly ReconcileConnectorReport[],
  sample: number,
  times: { startedAt: string; finishedAt: string; operationId?: string | null },
): ReconcileReport {
  const counts = emptyCounts();
  const samples = { missing: [], stale: [], extra: [], drift: [] } as Record<ReconcileClass, ReconcileDifference[]>;
  for (const r of reports) {
    for (const k of RECONCILE_CLASSES) {
      counts[k] += r.counts[k];
      for (const d of r.samples[k]) if (samples[k].length < sample) samples[k].push(d);
    }
  }
  return {
    customer,
    inSync: RECONCILE_CLASSES.every((k) => counts[k] === 0),
    counts,
    samples,
    connectors: reports,
    operationId: times.operationId ?? null,
    startedAt: times.startedAt,
    finishedAt: times.finishedAt,
  };
}

/*
 * Targeted re-delivery (i16b): re-deliver or withdraw a set of entities for ONE connector, through its running
 * task's normal pipeline (delivery chain, version guard, ledger). The runtime queues work through the plugin's hook
 * and watches its progress; the plugin's task does the work at a bounded rate and keeps the progress durably, so an
 * interrupted repair or replay resumes where it stopped.
 */

/** `deliver`: at the origin's current version (or withdraw it if it no longer routes there); `withdraw`: the same
 * decision, plus removal from `target` even when the ledger does not know the entity is there (an extra row). */
export type RedeliveryAction = 'deliver' | 'withdraw';

export interface RedeliveryItem {
  readonly entityId: string;
  readonly action: RedeliveryAction;
  /** For `withdraw`: the topic or table found holding it (when the ledger does not say so). */
  readonly target?: string;
}

/** How one queued entity ended: sent, removed, nothing to do, waiting on a dependency, or refused (DLQ). */
export type RedeliveryOutcome = 'delivered' | 'withdrawn' | 'unchanged' | 'waiting' | 'failed';

export interface RedeliveryProgress {
  readonly requestId: string;
  readonly connector: string;
  readonly total: number;
  readonly pending: number;
  readonly delivered: number;
  readonly withdrawn: number;
  readonly unchanged: number;
  readonly waiting: number;
  readonly failed: number;
  readonly done: boolean;
}

/** Where a replay starts: a ledger write time (ms since the epoch) or a delivered version (inclusive). */
export type ReplaySince = { readonly timeMs: number } | { readonly version: bigint };

export interface RedeliveryAdmin {
  /**
   * Queues items (in batches, so a large set is never held at once). An unfinished request with the same
   * `requestKey` is resumed: what it already did is not queued again.
   */
  submit(request: {
    readonly requestKey: string;
    readonly operationId: string | null;
    readonly items: AsyncIterable<readonly RedeliveryItem[]> | Iterable<readonly RedeliveryItem[]>;
  }): Promise<{ requestId: string; resumed: boolean; queued: number; alreadyQueued: number }>;
  progress(requestId: string): Promise<RedeliveryProgress>;
  /**
   * Why this connector, as configured, must not re-deliver (null: it may). A caller checks every connector of an
   * operation before it queues anything, so a refused operation queues nothing; submit() refuses the same way.
   */
  readonly refusal?: { readonly code: ErrorCode; readonly message: string } | null;
  /** The entity ids the ledger recorded for this connector since `since` (deliveries and deletes), in batches. */
  deliveredSince(since: ReplaySince, batchSize?: number): AsyncIterable<string[]>;
  close(): Promise<void>;
}

export type RedeliveryHook = (request: {
  readonly connector: string;
  /** The connector's config with placeholders resolved (never shown back). */
  readonly config: Readonly<Record<string, string>>;
}) => Promise<RedeliveryAdmin>;

/** A plugin descriptor that offers targeted re-delivery (the LookupSink does). */
export interface RedeliverablePlugin {
  readonly redelivery: RedeliveryHook;
}

export function redeliveryHookOf(plugin: unknown): RedeliveryHook | undefined {
  const hook = (plugin as Partial<RedeliverablePlugin> | null | undefined)?.redelivery;
  return typeof hook === 'function' ? hook : undefined;
}

/** What a repair does about one difference a reconcile found (null: nothing it can do). */
export function repairItemOf(d: ReconcileDifference): RedeliveryItem | null {
  // A drift of a pair the origin no longer routes, with the destination holding it, is the same pair's `extra`: it
  // must be the same withdrawal, or the queue (one row per entity, the last item wins) would keep a plain deliver
  // that finds the origin row gone and nothing in the ledger to withdraw from.
  if (d.kind === 'extra' || (d.kind === 'drift' && !d.shouldHold && d.destinationVersion !== null)) {
    return d.target === ''
      ? { entityId: d.entityId, action: 'withdraw' }
      : { entityId: d.entityId, action: 'withdraw', target: d.target };
  }
  // A drift where the destination holds a version above the origin's: sending the origin's state again would lower
  // it on a destination without a version guard (a Kafka topic's latest record), and a repair never goes back.
  if (
    d.kind === 'drift' &&
    d.destinationVersion !== null &&
    d.originVersion !== null &&
    BigInt(d.destinationVersion) > BigInt(d.originVersion)
  ) {
    return null;
  }
  // missing, stale, drift: deliver the current state again (the version guard keeps anything newer).
  return { entityId: d.entityId, action: 'deliver' };
}

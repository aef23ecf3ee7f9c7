/**
 * The one order of entity ids (and of targets) in LookupSink. Writers of overlapping entities lock their rows in it:
 * the ledger's entries (ledger.ts), a jdbc destination's rows committed with them (destinations/jdbc.ts) and the
 * re-delivery queue's inserts (redelivery.ts). Two tasks writing the same entities then take their row locks in the
 * same order and cannot deadlock, which holds only while all of them sort by this one comparison. Reconcile sorts
 * both sides of a comparison by it too.
 */

/** A consistent total order on id texts (UTF-16 code units, not a collation: any order works, as long as it is one). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Entity order. */
export const byEntityId = (a: { readonly entityId: string }, b: { readonly entityId: string }): number =>
  compareText(a.entityId, b.entityId);

/** Tables (targets) in name order, each in entity order. */
export const byTargetAndEntityId = (
  a: { readonly target: string; readonly entityId: string },
  b: { readonly target: string; readonly entityId: string },
): number => compareText(a.target, b.target) || byEntityId(a, b);

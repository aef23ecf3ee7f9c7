import type { GapCursor } from '../cursor.js';

/** How far below the high mark a hand-off looks for sequence numbers held by still-open transactions. */
export const HANDOFF_WINDOW = 1000n;

/** The lowest sequence number a hand-off read must return: everything above `max - HANDOFF_WINDOW`. */
export function handoffFloor(maxSeq: bigint): bigint {
  const floor = maxSeq - HANDOFF_WINDOW;
  return floor > 0n ? floor : 0n;
}

/**
 * The gap-tracking position at a consistent snapshot: the highest sequence visible, with every number in the
 * window below it that is not visible taken as an open gap: a transaction still running at the snapshot holds
 * such a number, and its change must be streamed when it commits. Numbers that were purged or rolled back
 * simply expire after gap.timeout.ms.
 */
export function gapHandoff(maxSeq: bigint | null, recentSeqsAscending: readonly bigint[], nowMs: number): GapCursor {
  // An empty change table tells nothing about the next number: anchor on the first row seen.
  if (maxSeq === null) return { kind: 'gaps', seq: '0', gaps: [], unanchored: true };
  const present = new Set(recentSeqsAscending);
  const gaps: Array<[string, number]> = [];
  for (let g = handoffFloor(maxSeq) + 1n; g < maxSeq; g++) if (!present.has(g)) gaps.push([String(g), nowMs]);
  return { kind: 'gaps', seq: String(maxSeq), gaps };
}

import type { TopicPartition } from '../api/index.js';
import type { PartitionOffset } from './kafka-port.js';

/** Offsets (inclusive) of consecutive records handed to put() that the task has not yet reported done. */
interface Run {
  from: bigint;
  to: bigint;
}

interface PartitionState {
  tp: TopicPartition;
  /** The offset after the last record this task handled (put or dropped): Connect's currentOffsets. */
  consumedEnd: bigint;
  pending: Run[];
  lastWasPut: boolean;
  committed: bigint;
}

/** Past this many runs, neighbours merge: the dropped records between them then wait for the task too. */
const MAX_RUNS = 1000;

/**
 * Which consumer offsets a sink task may commit. A task's preCommit can only vouch for records it was given;
 * records the worker finished itself (dropped by a transform, skipped under errors.tolerance=all) are done
 * the moment they are dropped. So the commit goes past them up to the first record put() was given and the
 * task has not reported done, and to the end of what was consumed when there is none: a topic whose
 * records are all filtered out gets a lag of 0, and a record put() has not finished with is never covered.
 */
export class SinkOffsetTracker {
  private readonly parts = new Map<string, PartitionState>();
  /** The partition of the last record seen: a batch holds one partition, so most lookups are this one. */
  private last: PartitionState | null = null;

  /** A record handed to put(). */
  put(topic: string, partition: number, offset: bigint): void {
    const s = this.state(topic, partition, offset);
    const last = s.pending[s.pending.length - 1];
    if (last && s.lastWasPut) last.to = offset;
    else s.pending.push({ from: offset, to: offset });
    if (s.pending.length > MAX_RUNS) s.pending.splice(-2, 2, { from: s.pending.at(-2)!.from, to: offset });
    s.lastWasPut = true;
    s.consumedEnd = offset + 1n;
  }

  /** A record the worker finished without put(). */
  dropped(topic: string, partition: number, offset: bigint): void {
    const s = this.state(topic, partition, offset);
    s.lastWasPut = false;
    s.consumedEnd = offset + 1n;
  }

  /** What preCommit is offered for these partitions: everything handled so far (put or dropped). */
  current(partitions: Iterable<{ topic: string; partition: number }>): Map<TopicPartition, bigint> {
    const out = new Map<TopicPartition, bigint>();
    for (const p of partitions) {
      const s = this.parts.get(key(p.topic, p.partition));
      if (s && !out.has(s.tp)) out.set(s.tp, s.consumedEnd);
    }
    return out;
  }

  /**
   * The offsets to commit for the partitions of `current`, given what the task's preCommit said is safe;
   * partitions whose offset did not move are left out. A task offset beyond what was consumed is ignored,
   * as Connect does. `ignored` lists those so the caller can warn.
   */
  committable(
    current: ReadonlyMap<TopicPartition, bigint>,
    safe: ReadonlyMap<TopicPartition, bigint>,
  ): { offsets: PartitionOffset[]; ignored: PartitionOffset[] } {
    const byKey = new Map<string, bigint>();
    for (const [tp, offset] of safe) byKey.set(key(tp.topic, tp.partition), offset);
    const offsets: PartitionOffset[] = [];
    const ignored: PartitionOffset[] = [];
    for (const tp of current.keys()) {
      const s = this.parts.get(key(tp.topic, tp.partition));
      if (!s) continue;
      let done = byKey.get(key(tp.topic, tp.partition));
      if (done !== undefined && done > s.consumedEnd) {
        ignored.push({ topic: tp.topic, partition: tp.partition, offset: done });
        done = undefined;
      }
      if (done !== undefined) {
        while (s.pending.length > 0 && s.pending[0]!.to < done) s.pending.shift();
        const first = s.pending[0];
        if (first && first.from < done) first.from = done;
      }
      const offset = s.pending[0]?.from ?? s.consumedEnd;
      if (offset !== s.committed) offsets.push({ topic: tp.topic, partition: tp.partition, offset });
    }
    return { offsets, ignored };
  }

  /** Whether some partition has handled records its committed offset does not cover yet. */
  hasUncommitted(): boolean {
    for (const s of this.parts.values()) if (s.committed !== s.consumedEnd) return true;
    return false;
  }

  uncommittedPartitions(): TopicPartition[] {
    return [...this.parts.values()].filter((s) => s.committed !== s.consumedEnd).map((s) => s.tp);
  }

  /**
   * Keeps only these partitions: the others moved to another member of the group, whose commits must not be set
   * back by ours. A partition that comes back starts over from the group's committed offset.
   */
  retain(assigned: ReadonlyArray<{ topic: string; partition: number }>): TopicPartition[] {
    const keep = new Set(assigned.map((p) => key(p.topic, p.partition)));
    const revoked: TopicPartition[] = [];
    this.last = null;
    for (const [k, s] of this.parts) {
      if (keep.has(k)) continue;
      this.parts.delete(k);
      revoked.push(s.tp);
    }
    return revoked;
  }

  /**
   * The task moved this partition to `offset` (SinkTaskContext.offset): what was handled past it counts no more,
   * and the next commit stores `offset` itself, so a restart resumes there as well.
   */
  rewind(topic: string, partition: number, offset: bigint): void {
    const k = key(topic, partition);
    const s = this.parts.get(k);
    this.last = null;
    this.parts.set(k, {
      tp: s?.tp ?? { topic, partition },
      consumedEnd: offset,
      pending: [],
      lastWasPut: false,
      committed: -1n,
    });
  }

  /** Records a successful commit, so an unchanged offset is not committed again. */
  committed(offsets: readonly PartitionOffset[]): void {
    for (const o of offsets) {
      const s = this.parts.get(key(o.topic, o.partition));
      if (s) s.committed = o.offset;
    }
  }

  private state(topic: string, partition: number, offset: bigint): PartitionState {
    const last = this.last;
    if (last !== null && last.tp.partition === partition && last.tp.topic === topic && offset >= last.consumedEnd) {
      return last;
    }
    const k = key(topic, partition);
    const s = this.parts.get(k);
    // A record at or before what was handled means the consumer went back (a partition that came back after
    // a rebalance resumes from the group's committed offset): what was pending will be delivered again.
    if (s && offset >= s.consumedEnd) {
      this.last = s;
      return s;
    }
    const fresh: PartitionState = {
      tp: s?.tp ?? { topic, partition },
      consumedEnd: offset,
      pending: [],
      lastWasPut: false,
      // The consumer starts (or went back) to the group's committed offset: nothing to commit up to here.
      committed: offset,
    };
    this.parts.set(k, fresh);
    this.last = fresh;
    return fresh;
  }
}

const key = (topic: string, partition: number) => `${topic}\0${partition}`;

/**
 * Gap tracking: sequence numbers given up (rolled back, as far as the evidence could tell) are still read again
 * now and then, so that a change committed after all is emitted rather than lost. Bounded: at most `capacity`
 * numbers, the oldest forgotten first; re-read at most once per `intervalMs`, in one statement per 1,000.
 * Numbers leave only when a batch that carries their rows is handed out (a read-ahead batch may be dropped).
 */
export class AbandonedSequences {
  private readonly seqs = new Set<string>();
  /** Handed to a read whose batch was not handed out yet: not asked again, so no late change comes twice. */
  private readonly pending = new Set<string>();
  private lastCheckMs = Number.NEGATIVE_INFINITY;
  private lateTotal = 0;
  private forgottenTotal = 0;

  constructor(
    private readonly capacity = 10_000,
    private readonly intervalMs = 5_000,
  ) {}

  /** Numbers just given up. Returns how many older ones were forgotten to stay within capacity. */
  add(seqs: readonly string[]): number {
    let forgotten = 0;
    for (const s of seqs) {
      this.seqs.delete(s); // re-added: now the newest
      this.seqs.add(s);
      if (this.seqs.size > this.capacity) {
        const oldest = this.seqs.values().next().value as string;
        this.seqs.delete(oldest);
        forgotten++;
      }
    }
    this.forgottenTotal += forgotten;
    return forgotten;
  }

  /** The numbers to read again with this read, or none when the last re-read is younger than the interval. */
  due(nowMs: number): string[] {
    if (this.seqs.size === 0 || nowMs - this.lastCheckMs < this.intervalMs) return [];
    this.lastCheckMs = nowMs;
    const due = [...this.seqs].filter((s) => !this.pending.has(s));
    for (const s of due) this.pending.add(s);
    return due;
  }

  /** The batch of a read that asked for these was handed out or dropped: they may be asked again. */
  settle(seqs: readonly string[] | 'all'): void {
    if (seqs === 'all') this.pending.clear();
    else for (const s of seqs) this.pending.delete(s);
  }

  /** Rows for these numbers were handed out: they are done. Returns how many of them were waited for here. */
  arrived(seqs: readonly string[]): number {
    let n = 0;
    for (const s of seqs) if (this.seqs.delete(s)) n++;
    this.lateTotal += n;
    return n;
  }

  get size(): number {
    return this.seqs.size;
  }

  /** For the task status: changes that came after their number was given up, and numbers no longer watched. */
  stats(): { late_changes: number; abandoned_watched: number; abandoned_forgotten: number } {
    return {
      late_changes: this.lateTotal,
      abandoned_watched: this.seqs.size,
      abandoned_forgotten: this.forgottenTotal,
    };
  }
}

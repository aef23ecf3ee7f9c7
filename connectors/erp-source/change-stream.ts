import type { Logger } from '../../runtime/api/index.js';
import { AbandonedSequences } from './abandoned.js';
import type { ErpSourceSettings } from './config.js';
import type { Cursor } from './cursor.js';
import type { ChangeBatch, Dialect } from './dialects/dialect.js';

/** What the change stream reads with; it never calls back into the task. */
export interface ChangeStreamDeps {
  readonly dialect: Dialect;
  readonly settings: ErpSourceSettings;
  readonly log: Logger;
  readonly progress: (info: Record<string, unknown>) => void;
}

/**
 * The change-row side of streaming: reads the change rows after a position (gap tracking: with the numbers given
 * up earlier, read again now and then so that a late commit is still emitted), at most one batch ahead, and keeps
 * the gap bookkeeping of the batches the task hands out. The stream position itself is the task's: a batch read
 * ahead is only used when the task asks for the rows after exactly the position it was read from, so a dropped or
 * failed read is simply read again.
 */
export class ChangeStream {
  private readonly abandoned: AbandonedSequences;
  /** The change rows after a full batch, read while the task builds that batch's events (bounded: one). */
  private ahead: { from: Cursor; batch: Promise<ChangeBatch> } | null = null;
  private lastStaleEvidenceLogMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: ChangeStreamDeps) {
    this.abandoned = new AbandonedSequences(10_000, Math.min(5_000, deps.settings.gapTimeoutMs));
  }

  /** The change rows after `cursor`: the batch read ahead from there, or a new read. */
  read(cursor: Cursor): Promise<ChangeBatch> {
    const ahead = this.ahead;
    this.ahead = null;
    if (ahead?.from === cursor) return ahead.batch;
    // A read ahead passed over is never handed out: the given-up numbers it re-read must be asked again (else they
    // stayed pending, and were never read again while the task ran).
    if (ahead) this.abandoned.settle('all');
    return this.readNow(cursor);
  }

  /** Starts reading the change rows after `cursor` (where a full batch ends) while the task works on that batch. */
  readAhead(cursor: Cursor): void {
    const next = this.readNow(cursor);
    next.catch(() => {}); // surfaces when read() hands it out
    this.ahead = { from: cursor, batch: next };
  }

  /** Drops the read ahead (a schema change, a chunk read next, a failure): what it was to re-read is asked again. */
  drop(): void {
    this.ahead = null;
    this.abandoned.settle('all');
  }

  /** Waits for a read in flight (stopping). */
  async idle(): Promise<void> {
    await this.ahead?.batch.catch(() => {});
  }

  /**
   * Whether the stream at `cursor` waits on time rather than on a commit: gaps held (each is given up after
   * gap.timeout.ms) or given-up numbers watched (re-read every few seconds). A commit notification cannot stand in
   * for those polls, so the task keeps polling at poll.interval.ms meanwhile.
   */
  timeDriven(cursor: Cursor): boolean {
    return (cursor.kind === 'gaps' && cursor.gaps.length > 0) || this.abandoned.size > 0;
  }

  /** Gap bookkeeping of a batch handed out: numbers given up are watched, late arrivals are logged and counted. */
  handedOut(batch: ChangeBatch): void {
    const { log } = this.deps;
    if (batch.rechecked) this.abandoned.settle(batch.rechecked);
    if (batch.expiredGaps.length > 0) {
      const forgotten = this.abandoned.add(batch.expiredGaps);
      log.warn(
        'Gave up waiting for change sequence numbers (past gap.timeout.ms and no transaction that could hold them ' +
          'is open); they are still read again now and then',
        { sequences: batch.expiredGaps.slice(0, 20), count: batch.expiredGaps.length, forgotten },
      );
    }
    if (batch.staleEvidence && Date.now() - this.lastStaleEvidenceLogMs >= 60_000) {
      this.lastStaleEvidenceLogMs = Date.now();
      log.warn(
        'Timed-out gaps kept: information_schema.INNODB_TRX did not show a current view of open transactions ' +
          '(the server refreshes it only after 100 ms without readers) and the InnoDB status list was truncated',
        { gaps: batch.end.kind === 'gaps' ? batch.end.gaps.length : 0 },
      );
    }
    if (batch.cappedGaps) {
      log.warn('The change sequence jumped; only the highest missing numbers are tracked as gaps', {
        untracked: batch.cappedGaps,
        position: batch.end,
      });
    }
    if (batch.late && this.abandoned.arrived(batch.late) > 0) {
      log.warn('Changes committed after their sequence numbers were given up; emitted now', {
        sequences: batch.late.slice(0, 20),
        ...this.abandoned.stats(),
      });
      this.deps.progress({ stream: this.abandoned.stats() });
    }
  }

  private readNow(cursor: Cursor): Promise<ChangeBatch> {
    const { dialect, settings } = this.deps;
    const now = Date.now();
    const recheck = cursor.kind === 'gaps' ? this.abandoned.due(now) : [];
    return dialect.readChanges(cursor, settings.maxBatchSize, now, settings.gapTimeoutMs, { recheck });
  }
}

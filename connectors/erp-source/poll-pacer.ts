/** What a poll found: a full batch (more is waiting), some changes, or nothing. */
export type PollOutcome = 'full' | 'changes' | 'empty';

export interface PollPacerOptions {
  /** poll.interval.ms: the wait of an idle stream (the longest), also while commit notifications arrive. */
  idleMs: number;
  /** poll.interval.min.ms: the wait after a poll that found changes (at most idleMs). */
  busyMs: number;
  /** notify.min.interval.ms: the shortest time between the starts of two polls woken by notifications. */
  wakeGapMs: number;
}

/**
 * When the next poll of the change stream starts.
 *
 * - A full batch: at once (more is waiting).
 * - Otherwise polling is adaptive: after a poll that found changes the next one follows after `busyMs`; each empty
 *   poll doubles the wait up to `idleMs`. A busy stream is read every few tens of milliseconds, an idle one costs
 *   one poll per `idleMs`.
 * - A commit notification ends the wait early, but never sooner than `wakeGapMs` after the previous poll started:
 *   notifications arriving in between are folded into one poll, so the poll rate is bounded whatever the commit
 *   rate. Notifications only ever shorten the plan, so a path that accepts LISTEN but never delivers (a
 *   transaction-pooling proxy) polls exactly as without them.
 *
 * A notification is remembered from the moment the previous poll started (not ended), so a commit that poll could
 * have missed always causes another poll; at worst one poll too many, never one too few.
 */
export class PollPacer {
  private adaptiveWaitMs = 0;
  private lastOutcome: PollOutcome = 'full';
  private woken = false;
  private lastStartMs = Number.NEGATIVE_INFINITY;
  private interrupt: (() => void) | null = null;

  constructor(private readonly o: PollPacerOptions) {}

  /** A commit notification (or a reconnect of the listener): the next poll starts as soon as the gap allows. */
  wake(): void {
    this.woken = true;
    this.interrupt?.();
  }

  /** Records what the poll that just ended found. */
  polled(outcome: PollOutcome): void {
    this.lastOutcome = outcome;
    const { busyMs, idleMs } = this.o;
    if (outcome === 'full') this.adaptiveWaitMs = 0;
    else if (outcome === 'changes') this.adaptiveWaitMs = Math.min(busyMs, idleMs);
    else this.adaptiveWaitMs = Math.min(idleMs, Math.max(busyMs, this.adaptiveWaitMs * 2));
  }

  /** The wait planned after the last poll, ignoring notifications (for tests and logs). */
  plannedWaitMs(): number {
    return this.lastOutcome === 'full' ? 0 : this.adaptiveWaitMs;
  }

  /** Resolves when the next poll is due (or `signal` aborts); from then on, a notification counts for the next one. */
  async wait(signal: AbortSignal): Promise<void> {
    const waitStart = Date.now();
    while (!signal.aborted) {
      const now = Date.now();
      let due = waitStart + this.plannedWaitMs();
      if (this.woken) due = Math.min(due, Math.max(now, this.lastStartMs + this.o.wakeGapMs));
      if (due <= now) break;
      await this.sleep(due - now, signal);
    }
    this.woken = false;
    this.lastStartMs = Date.now();
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.interrupt = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.interrupt = done;
    });
  }
}

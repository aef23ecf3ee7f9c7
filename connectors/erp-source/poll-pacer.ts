/** What a poll found: a full batch (more is waiting), some changes, or nothing. */
export type PollOutcome = 'full' | 'changes' | 'empty';

export interface PollPacerOptions {
  /** poll.interval.ms: the wait of an idle stream (the longest), also while commit notifications arrive. */
  idleMs: number;
  /** poll.interval.min.ms: the wait after a poll that found changes (at most idleMs). */
  busyMs: number;
  /** notify.min.interval.ms: the shortest time between the starts of two polls woken by notifications. */
  wakeGapMs: number;
  /**
   * notify.idle.interval.ms: the wait of an idle stream while commit notifications are known to arrive (at least
   * idleMs; absent: idleMs, notifications only shorten waits).
   */
  quietMs?: number;
}

/**
 * When the next poll of the change stream starts.
 *
 * - A full batch: at once (more is waiting).
 * - Otherwise polling is adaptive: after a poll that found changes the next one follows after `busyMs`; each empty
 *   poll doubles the wait up to `idleMs`. A busy stream is read every few tens of milliseconds, an idle one costs
 *   one poll per `idleMs`.
 * - While the commit listener delivers (`listening(true)`) and the last poll left nothing that only time can
 *   resolve (held gaps, given-up numbers watched, a heartbeat), empty polls keep doubling the wait up to `quietMs`:
 *   a commit wakes the task anyway, the poll is only a safety net. When the listener goes down the wait falls back to
 *   `idleMs` at once (the current wait is cut short), since commits are no longer announced.
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
  /** The last poll left something time-driven pending: the wait stays within idleMs. */
  private timeDriven = false;
  private listenerUp = false;
  private woken = false;
  private lastStartMs = Number.NEGATIVE_INFINITY;
  private interrupt: (() => void) | null = null;

  constructor(private readonly o: PollPacerOptions) {}

  /** A commit notification (or a reconnect of the listener): the next poll starts as soon as the gap allows. */
  wake(): void {
    this.woken = true;
    this.interrupt?.();
  }

  /**
   * Whether commit notifications arrive (the listener is connected and has delivered one). Going down cuts a long
   * wait back to idleMs (re-planned from the start of the wait, so an overdue poll starts at once).
   */
  listening(up: boolean): void {
    if (up === this.listenerUp) return;
    this.listenerUp = up;
    if (!up) this.interrupt?.();
  }

  /**
   * Records what the poll that just ended found; `timeDriven`: it left something only a later poll resolves without
   * any commit (held gaps to time out, given-up numbers to re-read, a heartbeat due), so the wait stays within idleMs.
   */
  polled(outcome: PollOutcome, timeDriven = false): void {
    this.lastOutcome = outcome;
    this.timeDriven = timeDriven;
    const { busyMs, idleMs } = this.o;
    const longest = Math.max(idleMs, this.o.quietMs ?? idleMs);
    if (outcome === 'full') this.adaptiveWaitMs = 0;
    else if (outcome === 'changes') this.adaptiveWaitMs = Math.min(busyMs, idleMs);
    else this.adaptiveWaitMs = Math.min(longest, Math.max(busyMs, this.adaptiveWaitMs * 2));
  }

  /** The wait planned after the last poll, ignoring notifications (for tests and logs). */
  plannedWaitMs(): number {
    if (this.lastOutcome === 'full') return 0;
    const quiet = this.listenerUp && !this.timeDriven;
    return Math.min(this.adaptiveWaitMs, quiet ? Math.max(this.o.idleMs, this.o.quietMs ?? 0) : this.o.idleMs);
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

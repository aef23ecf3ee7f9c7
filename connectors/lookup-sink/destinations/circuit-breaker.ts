import { RetriableError } from '../../../runtime/api/index.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * Stops hammering a destination that keeps failing: after `failureThreshold` consecutive failures it opens and
 * fails fast for `resetMs`; then one trial call is let through (half-open): success closes it, failure reopens.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private _state: BreakerState = 'closed';
  opened = 0;

  constructor(
    private readonly name: string,
    private readonly failureThreshold: number,
    private readonly resetMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (this._state === 'open' && this.now() - this.openedAt >= this.resetMs) this._state = 'half-open';
    return this._state;
  }

  /** Throws a RetriableError while open (and while a half-open trial is under way). */
  before(): void {
    const s = this.state;
    if (s === 'open' || (s === 'half-open' && this.trialInFlight)) {
      const wait = Math.max(0, this.resetMs - (this.now() - this.openedAt));
      throw new RetriableError(`Circuit breaker for ${this.name} is open (retrying in ${wait} ms)`, {
        code: 'ERPSTREAM_BREAKER_OPEN',
      });
    }
    if (s === 'half-open') this.trialInFlight = true;
  }

  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
    this._state = 'closed';
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures++;
    if (this._state === 'half-open' || this.failures >= this.failureThreshold) {
      if (this._state !== 'open') this.opened++;
      this._state = 'open';
      this.openedAt = this.now();
    }
  }
}

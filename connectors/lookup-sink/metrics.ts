/** What the task reports in its status and through metrics(). */
export interface LookupSinkMetrics {
  records: number;
  delivered: number;
  /** Deliveries of a key that had been parked. */
  released: number;
  /** Parked keys, waiting ones included. */
  parked: number;
  /**
   * Parked keys that wait on a dependency that does not expire ("not for any customer yet"): delivered when a
   * registration arrives, never dead-lettered for that reason.
   */
  waiting: number;
  /** Withdrawals sent: a target the entity no longer routes to (its registration removed) got a delete. */
  withdrawn: number;
  /** Records whose id the origin database could not take, isolated from their batch and sent to the DLQ. */
  poisoned: number;
  /** Entities re-evaluated because a dependency topic named them (a registration added or removed). */
  reevaluated: number;
  oldestParkedAgeMs: number | null;
  /** Versions at or below the delivered (or parked) one. */
  staleDropped: number;
  /** Older versions of a key replaced by a newer one in the same batch or in the park. */
  superseded: number;
  deleted: number;
  /** Entities a repair or replay (targeted re-delivery) sent again or withdrew. */
  redelivered: number;
  /** Ready rows the delivery chain (delivery.transforms) dropped, e.g. with a Filter. */
  filtered: number;
  dlq: Record<string, number>;
  lookupQueries: number;
  dependencyQueries: number;
  /** Destination state, e.g. the HTTP circuit breaker. */
  destination: Record<string, unknown>;
}

export function emptyMetrics(): LookupSinkMetrics {
  return {
    records: 0,
    delivered: 0,
    released: 0,
    parked: 0,
    waiting: 0,
    withdrawn: 0,
    poisoned: 0,
    reevaluated: 0,
    oldestParkedAgeMs: null,
    staleDropped: 0,
    superseded: 0,
    deleted: 0,
    filtered: 0,
    redelivered: 0,
    dlq: {},
    lookupQueries: 0,
    dependencyQueries: 0,
    destination: {},
  };
}

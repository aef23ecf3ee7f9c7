/** What the task reports in its status and through metrics(). */
export interface LookupSinkMetrics {
  records: number;
  delivered: number;
  /** Deliveries of a key that had been parked. */
  released: number;
  parked: number;
  oldestParkedAgeMs: number | null;
  /** Versions at or below the delivered (or parked) one. */
  staleDropped: number;
  /** Older versions of a key replaced by a newer one in the same batch or in the park. */
  superseded: number;
  deleted: number;
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
    oldestParkedAgeMs: null,
    staleDropped: 0,
    superseded: 0,
    deleted: 0,
    filtered: 0,
    dlq: {},
    lookupQueries: 0,
    dependencyQueries: 0,
    destination: {},
  };
}

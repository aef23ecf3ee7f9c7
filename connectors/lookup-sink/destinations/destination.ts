import type { Headers } from '../../../runtime/api/index.js';
import type { Row, SqlClient } from '../sql/client.js';

/** A statement with `?` placeholders (SqlClient). */
export interface SqlStatement {
  readonly sql: string;
  readonly params: unknown[];
}

/** A delivery after the delivery chain: what the destination writes instead of the looked-up row. */
export interface ShapedRecord {
  readonly key: unknown;
  readonly value: unknown;
  readonly headers: Headers;
  /** jdbc only: the value as column → value (the chain's field names become the columns written). */
  readonly row?: Row;
}

export interface Delivery {
  readonly entityId: string;
  readonly version: bigint;
  readonly row: Row;
  /** Resolved by targetOf() before delivery. */
  readonly target: string;
  /** Set when delivery.transforms is configured: the destination writes this instead of `row`. */
  readonly shaped?: ShapedRecord;
}

export interface Removal {
  readonly entityId: string;
  readonly version: bigint;
  readonly target: string;
  /** What deliveredKey() gave for the last delivery at this target (from the ledger); null: the entity id. */
  readonly deliveredKey?: string | null;
  /**
   * A repair's withdrawal from a target the ledger does not list (reconcile found the entity there): the version it
   * holds is unknown to the sink, so a version-guarded destination removes it whatever its version. Only planned
   * under the task's mutex right after the origin was read not to route the entity there.
   */
  readonly unguarded?: boolean;
}

/** A permanent refusal of one item (an HTTP 4xx): its record goes to the DLQ; retrying would not help. */
export interface Rejection {
  readonly entityId: string;
  /** The target refused (an entity fanned out to several is refused per target); absent: every target. */
  readonly target?: string;
  readonly error: Error;
}

/**
 * A place ready rows go. `deliver` and `remove` resolve only once the destination has them durably (Kafka acked,
 * the database committed); they must be idempotent per (id, version), since a crash between delivery and the
 * ledger write repeats them.
 */
export interface Destination {
  /** The concrete target (topic, table) of a row; throws DataError when the row cannot be routed. */
  targetOf(row: Row, entityId: string): string;
  /**
   * Resolves with the items refused for good (none for Kafka and jdbc); throws when the batch should be retried.
   * `alongside`: statements on the client sharesTransactionsWith() accepted, committed in the delivery's transaction.
   */
  deliver(items: readonly Delivery[], alongside?: readonly SqlStatement[]): Promise<readonly Rejection[]>;
  /**
   * Whether deliver() can commit statements on this client together with a delivery (a database destination writing
   * through that very client). Such a destination never refuses an item: what it takes is all or nothing.
   */
  sharesTransactionsWith?(db: SqlClient): boolean;
  remove(items: readonly Removal[]): Promise<readonly Rejection[]>;
  /**
   * For a destination that keys what it writes (Kafka): the key a delivery was written under, encoded as text for
   * the ledger, when it is not the entity id (the delivery chain chose it). remove() gets it back, so a delete
   * reaches the key the consumers hold.
   */
  deliveredKey?(item: Delivery): string | null;
  /** Destination-specific state for the task status (e.g. the circuit breaker). */
  metrics?(): Record<string, unknown>;
  close(): Promise<void>;
}

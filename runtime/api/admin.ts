import type { PluginDescriptor } from './plugin.js';
import type { SinkRecord } from './record.js';

/**
 * Inspection capability (the operations console, `erpstream trace`): what a sink connector can tell about its own
 * durable state — parked records, delivery ledger entries, the identity of a record — without the runtime importing
 * the connector. A plugin offers it with an `admin(props)` function next to `create()`; the runtime opens one per
 * connector config (props resolved: config providers applied) and closes it when done.
 *
 * Every answer is data the connector already keeps; nothing here changes state. Connection settings and secrets
 * never leave the implementation.
 */

/** The config key that names the customer (integration) a connector works for; see docs/integrations.md. */
export const CUSTOMER_CONFIG_KEY = 'erpstream.integration';

/** A connector's customer: its `erpstream.integration` label, else the connector's own name. */
export function customerOf(connector: string, config: Readonly<Record<string, string | null | undefined>>): string {
  const label = config[CUSTOMER_CONFIG_KEY];
  return typeof label === 'string' && label.trim() !== '' ? label.trim() : connector;
}

export interface AdminParkedRecord {
  readonly entityId: string;
  readonly version: bigint;
  readonly reason: string;
  /** A ledger key (destination|entity|id) whose delivery releases it, or null (backoff re-checks only). */
  readonly waitingOn: string | null;
  /** True when it waits for something that does not expire ("not for any customer yet"). */
  readonly waiting: boolean;
  readonly firstParkedAt: number;
  readonly nextCheckAt: number;
  readonly attempts: number;
}

export interface AdminDeliveryTarget {
  /** Topic, table or URL the version went to. */
  readonly target: string;
  readonly version: bigint;
  /**
   * For a Kafka destination: the record key it was written under (null: a record without a key), so the
   * runtime can find its offset; undefined for other destinations.
   */
  readonly kafkaKey?: Buffer | null;
  /**
   * Set when the target is listed ahead of a send and no version is known (`version` is then -1): `sending` while
   * the send may still be in flight, `unconfirmed` when it never confirmed (a crash or a failed send: a replay
   * finds out). Absent: delivered at `version`.
   */
  readonly pending?: 'sending' | 'unconfirmed';
}

export interface AdminLedgerEntry {
  readonly entityId: string;
  readonly version: bigint;
  readonly deleted: boolean;
  readonly targets: readonly AdminDeliveryTarget[];
  /** When the ledger row was last written (epoch ms), when known. */
  readonly updatedAt: number | null;
}

export interface AdminOrigin {
  /** The origin row's version (lookup.version.column), when the connector reads one. */
  readonly version: bigint | null;
  readonly exists: boolean;
}

export interface ConnectorAdmin {
  readonly entity: string;
  /** The connector's destination name (ledger and park rows are keyed by it). */
  readonly destination: string;
  readonly destinationType: string;
  /** Parked and waiting records, the longest-parked first. */
  parked(o: { limit: number }): Promise<AdminParkedRecord[]>;
  /** Parked keys of this connector's (destination, entity), waiting ones included, and how many of them wait. */
  parkedStats(): Promise<{ parked: number; waiting: number }>;
  /** The parked rows of these entity ids. */
  parkedFor(ids: readonly string[]): Promise<AdminParkedRecord[]>;
  ledger(ids: readonly string[]): Promise<AdminLedgerEntry[]>;
  /** The origin row of an entity id, as the connector would look it up now. */
  origin(id: string): Promise<AdminOrigin>;
  /**
   * The entity id and version a record (after the worker's converters) stands for, or null when it names none
   * (a dependency topic's record, a tombstone, a record the connector cannot read).
   */
  identify(record: SinkRecord): { entityId: string; version: bigint | null } | null;
  /** The canonical entity id text of a key given by a user (`4711`, or `["A","1"]` for a compound key). */
  parseKey(key: string): string;
  close(): Promise<void>;
}

export type AdminFactory = (props: Readonly<Record<string, string>>) => Promise<ConnectorAdmin>;

/** A plugin descriptor with the inspection capability. */
export interface AdminCapable {
  readonly admin: AdminFactory;
}

/** The admin capability of a plugin, if it has one. */
export function adminOf(plugin: PluginDescriptor | undefined): AdminFactory | null {
  const f = (plugin as { admin?: unknown } | undefined)?.admin;
  return typeof f === 'function' ? (f as AdminFactory) : null;
}

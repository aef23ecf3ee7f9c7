import type { SourceOffset, SourcePartition } from '../../api/index.js';
import type { OutRecord } from '../kafka-port.js';
import { type OffsetEntry, type OffsetStore, canonicalJson, offsetKey } from '../stores.js';
import type { KafkaBasedLog, LogRecord } from './kafka-log.js';

/**
 * Source offsets in the offsets topic, as Connect's KafkaOffsetBackingStore: key
 * `["<connector>",{partition}]` and value `{offset}` in canonical JSON (the store indexes by the exact
 * key bytes), a null value deleting the partition. Reads are read_committed, so offsets written in an
 * aborted transaction never count.
 */
export class KafkaOffsetStore implements OffsetStore {
  private readonly data = new Map<string, SourceOffset>();
  private log: KafkaBasedLog | null = null;

  /**
   * @param transactional exactly-once: offsets are written in transactions, so a read waits for the ones open
   *   at the time to end (see KafkaBasedLog.readToEnd).
   * @param hanging exactly-once: a read that stops short of the end for STALL_CHECK_MS looks for a hanging
   *   transaction of this cluster's tasks and ends it (HangingTransactionRepair)
   */
  constructor(
    readonly topic: string,
    private readonly transactional = false,
    private readonly hanging: { repairAndLog(): Promise<unknown> } | null = null,
  ) {}

  /** Past a transaction's usual length (the worker's commit interval), well before the read's cap. */
  private static readonly STALL_CHECK_MS = 10_000;

  /**
   * The task's own earlier transaction never counts here: its producer fenced it (the coordinator aborted it) before
   * the task reads. What a read may still wait for is other producers' transactions: live tasks commit within their
   * transaction boundary; one left open by a task not restarted yet (its worker died, its connector was deleted) lasts
   * until the broker aborts it, a transaction timeout (kafkajs: 60 s) plus the broker's next scan (every 10 s by
   * default), after a broker restart only once it has loaded its transaction log again. The cap stays well above that:
   * 90 s was too close on a loaded machine.
   */
  private static readonly TRANSACTIONAL_READ_TIMEOUT_MS = 180_000;

  private readToEnd(): Promise<void> {
    return this.transactional
      ? this.topicLog.readToEnd(KafkaOffsetStore.TRANSACTIONAL_READ_TIMEOUT_MS, {
          openTransactions: true,
          ...(this.hanging
            ? { onStall: { afterMs: KafkaOffsetStore.STALL_CHECK_MS, run: () => this.hanging!.repairAndLog() } }
            : {}),
        })
      : this.topicLog.readToEnd();
  }

  attach(log: KafkaBasedLog): void {
    this.log = log;
  }

  apply(record: LogRecord): void {
    if (record.key === null) return;
    if (record.value === null) {
      this.data.delete(record.key);
      return;
    }
    try {
      this.data.set(record.key, JSON.parse(record.value.toString('utf8')) as SourceOffset);
    } catch {
      // Not JSON: not an offset we can use (Connect would fail to deserialize it too).
    }
  }

  private get topicLog(): KafkaBasedLog {
    // Invariant: the worker attaches the store before it starts the herder.
    if (!this.log) throw new Error('The offset store is not attached to its topic');
    return this.log;
  }

  async start(): Promise<void> {
    await this.topicLog.readToEnd();
  }

  /** Reads to the end first: a task that moved here must see what its previous owner flushed or committed. */
  async get(connector: string, partition: SourcePartition): Promise<SourceOffset | null> {
    await this.readToEnd();
    return this.data.get(offsetKey(connector, partition)) ?? null;
  }

  /** The offsets records for these entries, to write through another producer (in a transaction). */
  records(connector: string, entries: readonly OffsetEntry[]): OutRecord[] {
    return entries.map((e) => ({
      topic: this.topic,
      partition: null,
      key: Buffer.from(offsetKey(connector, e.partition)),
      value: e.offset === null ? null : Buffer.from(canonicalJson(e.offset)),
      headers: [],
      timestamp: null,
    }));
  }

  async set(connector: string, entries: readonly OffsetEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.topicLog.send(
      entries.map((e) => ({
        key: offsetKey(connector, e.partition),
        value: e.offset === null ? null : canonicalJson(e.offset),
      })),
    );
    for (const e of entries) {
      const key = offsetKey(connector, e.partition);
      if (e.offset === null) this.data.delete(key);
      else this.data.set(key, JSON.parse(canonicalJson(e.offset)) as SourceOffset);
    }
  }

  async list(connector: string): Promise<OffsetEntry[]> {
    await this.readToEnd();
    const out: OffsetEntry[] = [];
    for (const [key, offset] of this.data) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(key);
      } catch {
        continue;
      }
      // Connect skips keys that are not [string, object] (OffsetUtils.processPartitionKey).
      if (!Array.isArray(parsed) || parsed.length !== 2 || parsed[0] !== connector) continue;
      if (parsed[1] === null || typeof parsed[1] !== 'object') continue;
      out.push({ partition: parsed[1] as SourcePartition, offset });
    }
    return out;
  }
}

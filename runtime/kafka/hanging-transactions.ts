import {
  Admin,
  type Connection,
  FindCoordinatorKeyTypes,
  Reader,
  Writer,
  createAPI,
  describeProducersV0,
  describeTransactionsV0,
  fetchV12,
  metadataV12,
} from '@platformatic/kafka';
import { ErpStreamError, type Logger } from '../api/index.js';
import { parseBrokers } from './client.js';

/**
 * A transaction left open on a partition that its coordinator no longer has: the broker never ends it, and every
 * read_committed reader of the partition stops at its first offset for good. Kafka 4.4 leaves one behind when a
 * restarted broker completes a transaction while the partition has no leader yet: the coordinator takes the
 * partition for deleted, skips its marker and logs the transaction complete ("Couldn't find leader endpoint …
 * likely deleted already"). An exactly-once worker sees it as an offsets read that never reaches the end.
 */
export interface HangingTransaction {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly partitions: ReadonlyArray<{ topic: string; partition: number; startOffset: bigint }>;
  /** What the coordinator has now for the transactional id, e.g. "Empty (epoch 2)". */
  readonly coordinatorState: string;
  /** What the coordinator had decided for it, from its transaction log; abort when it never decided. */
  readonly decision: 'commit' | 'abort';
}

interface OpenTransaction {
  topic: string;
  partition: number;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  startOffset: bigint;
  /** The producer's last write on the partition (its batch's timestamp), epoch ms. */
  lastTimestamp: number;
}

/** The coordinator states in which a transaction is still being run or ended by the coordinator itself. */
const IN_PROGRESS = new Set(['Ongoing', 'PrepareCommit', 'PrepareAbort', 'PrepareEpochFence']);

/** __transaction_state's TransactionLogValue status codes. */
const STATUS_ONGOING = 1;
const STATUS_PREPARE_COMMIT = 2;
const STATUS_PREPARE_ABORT = 3;

/**
 * WriteTxnMarkers v1 (flexible): what `kafka-transactions.sh abort` sends to a partition's leader. The broker checks
 * the producer epoch and the coordinator epoch against the partition's producer state, as for the coordinator's own.
 */
interface TxnMarker {
  producerId: bigint;
  producerEpoch: number;
  commit: boolean;
  topics: Array<{ name: string; partitions: number[] }>;
  coordinatorEpoch: number;
}
type MarkerErrors = Array<{ topic: string; partition: number; errorCode: number }>;
const writeTxnMarkersV1 = createAPI<[TxnMarker[]], MarkerErrors>(
  27,
  1,
  (markers: TxnMarker[]) =>
    Writer.create()
      .appendArray(markers, (w, m) => {
        w.appendInt64(m.producerId)
          .appendInt16(m.producerEpoch)
          .appendBoolean(m.commit)
          .appendArray(m.topics, (w, t) => {
            w.appendString(t.name).appendArray(t.partitions, (w, p) => w.appendInt32(p), true, false);
          })
          .appendInt32(m.coordinatorEpoch);
      })
      .appendTaggedFields(),
  (_correlationId, _apiKey, _apiVersion, reader) => {
    const out: MarkerErrors = [];
    reader.readArray((r) => {
      r.readInt64();
      r.readArray((r) => {
        const topic = r.readString();
        r.readArray((r) => out.push({ topic, partition: r.readInt32(), errorCode: r.readInt16() }));
      });
    });
    reader.readTaggedFields();
    return out;
  },
);

/** Java's String.hashCode, for the transaction log partition of a transactional id (TransactionStateManager). */
function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

export function transactionLogPartition(transactionalId: string, partitions: number): number {
  const h = javaStringHash(transactionalId);
  // Kafka's Utils.abs: Integer.MIN_VALUE maps to 0.
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}

export interface TransactionLogEntry {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  status: number;
  partitions: Array<{ topic: string; partitions: number[] }>;
}

/**
 * One __transaction_state record (TransactionLogKey v0, TransactionLogValue v0 or v1); null for a tombstone or a
 * version this reader does not know.
 */
export function decodeTransactionLogRecord(key: Buffer | null, value: Buffer | null): TransactionLogEntry | null {
  if (key === null || value === null || key.length < 4 || value.length < 2) return null;
  if (key.readInt16BE(0) !== 0) return null;
  const idLength = key.readInt16BE(2);
  const transactionalId = key.toString('utf8', 4, 4 + idLength);
  const version = value.readInt16BE(0);
  if (version !== 0 && version !== 1) return null;
  const r = Reader.from(value.subarray(2));
  const compact = version === 1;
  const producerId = r.readInt64();
  const producerEpoch = r.readInt16();
  r.readInt32();
  const status = r.readInt8();
  const partitions =
    r.readNullableArray(
      (r) => ({
        topic: r.readString(compact),
        partitions: r.readArray((r) => r.readInt32(), compact, false),
      }),
      compact,
      compact,
    ) ?? [];
  return { transactionalId, producerId, producerEpoch, status, partitions };
}

/**
 * What the coordinator decided for the transaction a producer (this id and epoch) left open on these partitions, from
 * its transactional id's transaction-log records in log order. With one epoch for many transactions (kafkajs, Kafka's
 * transaction version 1), the last one that had these partitions is the one left open: an Ongoing record with them
 * starts it undecided, a PrepareCommit or PrepareAbort decides it. A new producer's InitProducerId that aborts it is
 * logged with the next epoch. Never decided → abort, as `kafka-transactions.sh abort` does.
 */
export function coordinatorDecision(
  entries: readonly TransactionLogEntry[],
  producerEpoch: number,
  open: ReadonlyArray<{ topic: string; partition: number }>,
): 'commit' | 'abort' {
  let decided: 'commit' | 'abort' | null = null;
  const covers = (e: TransactionLogEntry) =>
    open.some((h) => e.partitions.some((p) => p.topic === h.topic && p.partitions.includes(h.partition)));
  for (const e of entries) {
    if (!covers(e)) continue;
    if (e.producerEpoch === producerEpoch) {
      if (e.status === STATUS_ONGOING) decided = null;
      else if (e.status === STATUS_PREPARE_COMMIT) decided = 'commit';
      else if (e.status === STATUS_PREPARE_ABORT) decided = 'abort';
    } else if (e.producerEpoch === producerEpoch + 1 && e.status === STATUS_PREPARE_ABORT && decided === null) {
      decided = 'abort';
    }
  }
  return decided ?? 'abort';
}

export interface HangingTransactionRepairOptions {
  brokers: string[] | string;
  clientId: string;
  logger: Logger;
  /** The transactional ids this worker's tasks use: only their transactions are ever ended here. */
  ownedTransactionalIds: () => string[];
  /** How long another producer's transaction stays open before it is reported (default 15 min). */
  foreignReportAfterMs?: number;
  /**
   * The topics the owned transactions write (the offsets topic, the topics the tasks produced to): a look scans
   * these, and every `fullScanEvery`-th look scans every topic of the cluster, in case a topic was not yet recorded.
   * Without it every look scans every topic.
   */
  watchedTopics?: () => string[];
  /** Default 60: with a look a minute, the whole cluster once an hour. */
  fullScanEvery?: number;
}

/**
 * Finds hanging transactions of this worker's own transactional ids and ends them the way their coordinator had
 * decided (its transaction log), with the WriteTxnMarkers request `kafka-transactions.sh abort` uses. A transaction
 * of another producer is only reported. An open transaction counts as hanging only when the coordinator neither runs
 * it (Ongoing with that partition) nor is ending it (Prepare*), and the partition still shows it after that answer.
 */
export class HangingTransactionRepair {
  private admin: Admin | null = null;
  private running: Promise<HangingTransaction[]> | null = null;
  private lastFailure = '';
  private readonly reported = new Set<string>();
  private lastFailureAt = 0;
  private looks = 0;

  constructor(private readonly o: HangingTransactionRepairOptions) {}

  private get client(): Admin {
    this.admin ??= new Admin({ clientId: this.o.clientId, bootstrapBrokers: parseBrokers(this.o.brokers) });
    return this.admin;
  }

  /**
   * Scans the watched topics' partitions (every partition of the cluster's non-internal topics on every
   * fullScanEvery-th look, or always without watchedTopics); ends the hanging transactions it owns.
   */
  async repair(): Promise<HangingTransaction[]> {
    const owned = new Set(this.o.ownedTransactionalIds());
    const watched = this.o.watchedTopics?.() ?? [];
    let open: OpenTransaction[];
    if (owned.size === 0) {
      // Nothing of ours to end: only another producer's transaction on a topic this cluster reads is worth saying.
      if (watched.length === 0) return [];
      open = await this.openTransactions(undefined, watched);
    } else {
      const full = !this.o.watchedTopics || this.looks++ % (this.o.fullScanEvery ?? 60) === 0;
      open = await this.openTransactions(undefined, full ? undefined : watched);
    }
    if (open.length === 0) return [];
    const states =
      owned.size > 0
        ? await this.describe([...owned])
        : new Map<string, describeTransactionsV0.DescribeTransactionsResponseTransactionState>();
    const candidates = new Map<string, { id: string; state: string; open: OpenTransaction[] }>();
    for (const t of open) {
      const s = [...states.values()].find((x) => x.producerId === t.producerId);
      if (!s) {
        this.reportForeign(t);
        continue;
      }
      const legit =
        IN_PROGRESS.has(s.transactionState) &&
        s.topics.some((x) => x.topic === t.topic && x.partitions.includes(t.partition));
      if (legit) continue;
      const key = `${t.producerId}/${t.producerEpoch}`;
      const c = candidates.get(key) ?? {
        id: s.transactionalId,
        state: `${s.transactionState} (epoch ${s.producerEpoch})`,
        open: [],
      };
      c.open.push(t);
      candidates.set(key, c);
    }
    if (candidates.size === 0) return [];
    // The coordinator's answer may have come right after it wrote the markers: only what is still open counts.
    const still = await this.openTransactions(candidates);
    const ended: HangingTransaction[] = [];
    for (const c of candidates.values()) {
      const hanging = c.open.filter((t) =>
        still.some(
          (x) =>
            x.topic === t.topic &&
            x.partition === t.partition &&
            x.producerId === t.producerId &&
            x.startOffset === t.startOffset,
        ),
      );
      if (hanging.length === 0) continue;
      const first = hanging[0]!;
      const decision = await this.decisionOf(c.id, first.producerId, first.producerEpoch, hanging);
      const h: HangingTransaction = {
        transactionalId: c.id,
        producerId: first.producerId,
        producerEpoch: first.producerEpoch,
        partitions: hanging.map((t) => ({ topic: t.topic, partition: t.partition, startOffset: t.startOffset })),
        coordinatorState: c.state,
        decision,
      };
      await this.end(h, hanging);
      ended.push(h);
    }
    return ended;
  }

  /**
   * repair(), logging what it ended and any failure instead of throwing: for a reader that waits on a stalled
   * partition and keeps waiting either way.
   */
  repairAndLog(): Promise<HangingTransaction[]> {
    // Tasks reading their offsets at once share one look: two would write the same markers twice.
    this.running ??= this.repairLogged().finally(() => (this.running = null));
    return this.running;
  }

  private async repairLogged(): Promise<HangingTransaction[]> {
    const { logger } = this.o;
    try {
      const ended = await this.repair();
      for (const h of ended)
        logger.warn(
          `Ended a hanging transaction of ${h.transactionalId} (producer ${h.producerId}, epoch ${h.producerEpoch}) ` +
            `on ${h.partitions.map((p) => `${p.topic}-${p.partition} from offset ${p.startOffset}`).join(', ')}: ` +
            `its coordinator no longer had it (${h.coordinatorState}), so the broker would never have ended it and ` +
            `read_committed readers of those partitions were stuck at its first offset. Ended as its coordinator ` +
            `had decided: ${h.decision}. A broker restart that completes a transaction while a partition has no ` +
            `leader yet leaves one behind.`,
          { transactionalId: h.transactionalId, decision: h.decision },
        );
      return ended;
    } catch (e) {
      // The sweep runs every minute: a lasting cause (no ACL for DescribeProducers, say) is said once an hour.
      const what = e instanceof Error ? e.message : String(e);
      if (what === this.lastFailure && Date.now() - this.lastFailureAt < 3_600_000) return [];
      this.lastFailure = what;
      this.lastFailureAt = Date.now();
      logger.warn(
        "Looking for a hanging transaction of this worker's tasks failed; find one with " +
          '`kafka-transactions.sh --bootstrap-server … find-hanging --broker-id <id>` and end it with ' +
          '`kafka-transactions.sh … abort --topic <t> --partition <p> --start-offset <o>`',
        { error: e },
      );
      return [];
    }
  }

  /**
   * Another producer's transaction is never ended here, but one open longer than any transaction may last (the
   * broker's default transaction.max.timeout.ms, 15 min) stops every read_committed reader of the partition, this
   * cluster's sinks included: said once, with the commands that end it.
   */
  private reportForeign(t: OpenTransaction): void {
    const key = `${t.topic}-${t.partition}@${t.startOffset}/${t.producerId}`;
    if (Date.now() - t.lastTimestamp < (this.o.foreignReportAfterMs ?? 900_000) || this.reported.has(key)) return;
    this.reported.add(key);
    this.o.logger.warn(
      `A transaction of producer ${t.producerId} (epoch ${t.producerEpoch}), not one of this cluster's tasks, has ` +
        `been open on ${t.topic}-${t.partition} since offset ${t.startOffset} (its last write ` +
        `${new Date(t.lastTimestamp).toISOString()}), longer than a transaction may last with the broker's default ` +
        `transaction.max.timeout.ms (15 min): read_committed consumers of that partition, this cluster's sinks ` +
        `included, stop there. If \`kafka-transactions.sh --bootstrap-server <b> find-hanging --broker-id <id>\` ` +
        `lists it, end it with \`kafka-transactions.sh --bootstrap-server <b> abort --topic ${t.topic} ` +
        `--partition ${t.partition} --start-offset ${t.startOffset}\`.`,
      { topic: t.topic, partition: t.partition, producerId: String(t.producerId) },
    );
  }

  async close(): Promise<void> {
    const a = this.admin;
    this.admin = null;
    await a?.close();
  }

  /** DescribeProducers on every partition's leader (or only on these topics', or on the candidates' partitions). */
  private async openTransactions(
    only?: Map<string, { open: OpenTransaction[] }>,
    scope?: string[],
  ): Promise<OpenTransaction[]> {
    const admin = this.client;
    const wanted = only
      ? [...new Set([...only.values()].flatMap((c) => c.open.map((t) => t.topic)))]
      : scope
        ? [...new Set(scope)]
        : (await admin.listTopics()).filter((t) => !t.startsWith('__'));
    if (wanted.length === 0) return [];
    const metadata = await admin.metadata({ topics: wanted, forceUpdate: true }).catch(async (e: unknown) => {
      // A watched topic deleted since a task wrote it fails the whole request: asked again without it.
      if (!scope) throw e;
      const existing = new Set(await admin.listTopics());
      return admin.metadata({ topics: wanted.filter((t) => existing.has(t)), forceUpdate: true });
    });
    const byLeader = new Map<number, Map<string, number[]>>();
    for (const [topic, t] of metadata.topics) {
      t.partitions.forEach((p, partition) => {
        if (only && ![...only.values()].some((c) => c.open.some((o) => o.topic === topic && o.partition === partition)))
          return;
        if (p.leader < 0) return;
        const topics = byLeader.get(p.leader) ?? new Map<string, number[]>();
        topics.set(topic, [...(topics.get(topic) ?? []), partition]);
        byLeader.set(p.leader, topics);
      });
    }
    const out: OpenTransaction[] = [];
    for (const [leader, topics] of byLeader) {
      const broker = metadata.brokers.get(leader);
      if (!broker) continue;
      const connection = await admin.connections.get(broker);
      const request = [...topics].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
      let response: Awaited<ReturnType<typeof describeProducersV0.api.async>>;
      try {
        response = await describeProducersV0.api.async(connection, request);
      } catch (e) {
        // Partitions in error (a leader that just moved) are skipped this round; the others still count.
        const partial = (e as { response?: typeof response }).response;
        if (!partial) throw e;
        response = partial;
      }
      for (const t of response.topics)
        for (const p of t.partitions) {
          if (p.errorCode !== 0) continue;
          for (const a of p.activeProducers)
            if (a.currentTxnStartOffset >= 0n)
              out.push({
                topic: t.name,
                partition: p.partitionIndex,
                producerId: a.producerId,
                producerEpoch: a.producerEpoch,
                coordinatorEpoch: Math.max(a.coordinatorEpoch, 0),
                startOffset: a.currentTxnStartOffset,
                lastTimestamp: Number(a.lastTimestamp),
              });
        }
    }
    return out;
  }

  private async describe(ids: string[]) {
    const admin = this.client;
    const coordinators = await admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.TRANSACTION, keys: ids });
    const byNode = new Map<string, { host: string; port: number; ids: string[] }>();
    for (const c of coordinators) {
      if (c.nodeId < 0) continue;
      const k = `${c.host}:${c.port}`;
      const e = byNode.get(k) ?? { host: c.host, port: c.port, ids: [] };
      e.ids.push(c.key);
      byNode.set(k, e);
    }
    const states = new Map<string, describeTransactionsV0.DescribeTransactionsResponseTransactionState>();
    for (const n of byNode.values()) {
      const connection = await admin.connections.get({ host: n.host, port: n.port });
      let response: describeTransactionsV0.DescribeTransactionsResponse;
      try {
        response = await describeTransactionsV0.api.async(connection, n.ids);
      } catch (e) {
        // A transactional id never used (TRANSACTIONAL_ID_NOT_FOUND) is an error entry; the others still count.
        const partial = (e as { response?: typeof response }).response;
        if (!partial) throw e;
        response = partial;
      }
      for (const s of response.transactionStates) if (s.errorCode === 0) states.set(s.transactionalId, s);
    }
    return states;
  }

  /**
   * The coordinator's decision (coordinatorDecision) from the transactional id's partition of __transaction_state.
   * A log this worker may not read is an error: guessing could lose or repeat what another partition already shows.
   */
  private async decisionOf(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    hanging: OpenTransaction[],
  ): Promise<'commit' | 'abort'> {
    const admin = this.client;
    // The client's metadata leaves internal topics out: asked directly.
    const brokers = [...(await admin.metadata({ topics: [] })).brokers.values()];
    const metadata = await metadataV12.api.async(await admin.connections.getFirstAvailable(brokers), [
      '__transaction_state',
    ]);
    const topic = metadata.topics.find((t) => t.name === '__transaction_state');
    if (!topic || topic.errorCode !== 0 || topic.partitions.length === 0)
      throw new ErpStreamError(
        'ERPSTREAM_KAFKA_UNAVAILABLE',
        `The transaction log __transaction_state cannot be described (error code ${topic?.errorCode})`,
      );
    const partition = transactionLogPartition(transactionalId, topic.partitions.length);
    const leaderId = topic.partitions.find((p) => p.partitionIndex === partition)?.leaderId ?? -1;
    const leader = metadata.brokers.find((b) => b.nodeId === leaderId);
    if (!leader)
      throw new ErpStreamError('ERPSTREAM_KAFKA_UNAVAILABLE', `__transaction_state-${partition} has no leader`);
    const connection = await admin.connections.get(leader);
    const entries: TransactionLogEntry[] = [];
    await readPartition(connection, '__transaction_state', partition, (key, value) => {
      const e = decodeTransactionLogRecord(key, value);
      if (e && e.transactionalId === transactionalId && e.producerId === producerId) entries.push(e);
    });
    return coordinatorDecision(entries, producerEpoch, hanging);
  }

  private async end(h: HangingTransaction, open: OpenTransaction[]): Promise<void> {
    const admin = this.client;
    const metadata = await admin.metadata({ topics: [...new Set(open.map((t) => t.topic))], forceUpdate: true });
    for (const t of open) {
      const leader = metadata.brokers.get(metadata.topics.get(t.topic)?.partitions[t.partition]?.leader ?? -1);
      if (!leader) throw new ErpStreamError('ERPSTREAM_KAFKA_UNAVAILABLE', `${t.topic}-${t.partition} has no leader`);
      const connection = await admin.connections.get(leader);
      const errors = await writeTxnMarkersV1.async(connection, [
        {
          producerId: t.producerId,
          producerEpoch: t.producerEpoch,
          commit: h.decision === 'commit',
          topics: [{ name: t.topic, partitions: [t.partition] }],
          coordinatorEpoch: t.coordinatorEpoch,
        },
      ]);
      const failed = errors.find((e) => e.errorCode !== 0);
      if (failed)
        throw new ErpStreamError(
          'ERPSTREAM_KAFKA_REFUSED',
          `Writing the ${h.decision} marker of producer ${t.producerId} (epoch ${t.producerEpoch}) on ` +
            `${t.topic}-${t.partition} failed with Kafka error code ${failed.errorCode}`,
        );
    }
  }
}

/** Reads a partition from its log start to its high watermark (read_uncommitted), record by record. */
async function readPartition(
  connection: Connection,
  topic: string,
  partition: number,
  onRecord: (key: Buffer | null, value: Buffer | null) => void,
): Promise<void> {
  let offset = 0n;
  for (;;) {
    const response = await fetchV12.api.async(
      connection,
      0,
      1,
      8 * 1024 * 1024,
      0,
      0,
      -1,
      [
        {
          topicId: topic,
          partitions: [
            {
              partition,
              currentLeaderEpoch: -1,
              fetchOffset: offset,
              lastFetchedEpoch: -1,
              partitionMaxBytes: 8 * 1024 * 1024,
            },
          ],
        },
      ],
      [],
      '',
    );
    const p = response.responses[0]?.partitions[0];
    if (!p) return;
    if (p.errorCode === 1 /* OFFSET_OUT_OF_RANGE */ && offset < p.logStartOffset) {
      offset = p.logStartOffset;
      continue;
    }
    if (p.errorCode !== 0)
      throw new ErpStreamError(
        'ERPSTREAM_KAFKA_REFUSED',
        `Reading ${topic}-${partition} failed with Kafka error code ${p.errorCode}`,
      );
    let next = offset;
    for (const batch of p.records ?? []) {
      for (const r of batch.records) {
        const at = batch.firstOffset + BigInt(r.offsetDelta);
        if (at < offset) continue;
        onRecord(r.key, r.value);
      }
      next = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
    }
    if (next >= p.highWatermark) return;
    if (next === offset) {
      // Nothing readable here (a compacted gap or an empty fetch): start over from the log start if behind it.
      if (offset < p.logStartOffset) offset = p.logStartOffset;
      else return;
    } else offset = next;
  }
}

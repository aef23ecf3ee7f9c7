import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4 (unmaintained) hands out records of aborted transactions to read_committed consumers. Its filter
 * (src/consumer/filterAbortedMessages.js) assumes the fetch response lists aborted transactions by first offset and
 * enters at most one per record. A broker lists them in the order they were aborted (its abort index): after a
 * broker restart, producer 11's transaction from offset 562 is listed before producer 12's from 546 when 11's abort
 * marker came first, and kafkajs delivered 546–560 — 15 records of an aborted transaction, read twice downstream
 * once the exactly-once task wrote them again (found by the fault suite's broker SIGKILL under exactly-once, checked
 * against Kafka's own console consumer on the same log). Every sink task and the worker's internal-topic readers
 * are kafkajs consumers.
 *
 * The fix decides per record batch, as Java's consumer (CompletedFetch): aborted transactions ordered by first offset
 * are entered up to each batch's last offset, an ABORT marker ends its producer's, and a transactional batch of a
 * producer inside an aborted transaction is dropped. Its records are not removed but flagged as control records,
 * which kafkajs already drops after filtering: they keep counting for the batch's last offset, so the consumer's
 * position still moves past them. The response's list is then emptied, so kafkajs's own filter does nothing.
 * Applied once to the fetch response parsers (v4–v11, the versions with aborted transactions); a kafkajs without
 * them is left alone.
 */

interface FetchedMessage {
  offset: string;
  key: Buffer | null;
  isControlRecord: boolean;
  batchContext?: {
    firstOffset: string;
    lastOffsetDelta: number;
    producerId: string;
    inTransaction: boolean;
    isControlBatch: boolean;
  };
}

interface FetchedPartition {
  abortedTransactions?: Array<{ producerId: string; firstOffset: string }>;
  messages: FetchedMessage[];
}

interface FetchResponse {
  responses?: Array<{ partitions: FetchedPartition[] }>;
}

/** A control record's key: version (int16) then type (int16), 0 = ABORT, 1 = COMMIT. */
function isAbortMarker(key: Buffer | null): boolean {
  return key !== null && key.length >= 4 && key.readInt16BE(2) === 0;
}

/** Flags the records of aborted transactions in one partition's fetched records (see above). */
export function flagAbortedRecords(partition: FetchedPartition): void {
  const aborted = partition.abortedTransactions;
  if (!aborted || aborted.length === 0) return;
  const queue = aborted
    .map((t) => ({ producerId: t.producerId, firstOffset: BigInt(t.firstOffset) }))
    .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const abortedProducers = new Set<string>();
  let batch: FetchedMessage['batchContext'] | undefined;
  let dropBatch = false;
  for (const m of partition.messages) {
    const ctx = m.batchContext;
    if (!ctx) continue;
    if (ctx !== batch) {
      batch = ctx;
      const last = BigInt(ctx.firstOffset) + BigInt(ctx.lastOffsetDelta);
      while (queue.length > 0 && queue[0]!.firstOffset <= last) abortedProducers.add(queue.shift()!.producerId);
      dropBatch = !ctx.isControlBatch && ctx.inTransaction && abortedProducers.has(ctx.producerId);
    }
    if (ctx.isControlBatch) {
      if (isAbortMarker(m.key)) abortedProducers.delete(ctx.producerId);
    } else if (dropBatch) {
      m.isControlRecord = true;
    }
  }
  partition.abortedTransactions = [];
}

const PATCHED = Symbol.for('erpstream.kafkajs.readCommitted');

export function fixAbortedTransactionFilter(): void {
  let require: NodeJS.Require;
  try {
    require = createRequire(import.meta.url);
  } catch {
    return;
  }
  for (let v = 4; v <= 11; v++) {
    let mod: { parse?: (data: unknown) => unknown; [PATCHED]?: boolean } | undefined;
    try {
      mod = require(`kafkajs/src/protocol/requests/fetch/v${v}/response.js`) as typeof mod;
    } catch {
      continue;
    }
    if (!mod || typeof mod.parse !== 'function' || mod[PATCHED]) continue;
    const parse = mod.parse;
    mod.parse = async (data: unknown) => {
      const parsed = (await parse(data)) as FetchResponse;
      for (const r of parsed.responses ?? []) for (const p of r.partitions) flagAbortedRecords(p);
      return parsed;
    };
    mod[PATCHED] = true;
  }
}

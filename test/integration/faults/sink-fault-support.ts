import type { Producer } from '../../../runtime/kafka/index.js';
import { waitFor } from '../../support/worker.js';

/** Shared by the sink fault tests: the status watcher, the event sender and a seeded random source. */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls a connector's status every 250 ms until `stop()`: every FAILED connector or task seen at any moment, with its
 * trace (a FAILED that later recovered by itself would still have needed a person at 3 a.m.).
 */
export function watchForFailures(workerUrl: string, connector: string): { stop(): Promise<string[]> } {
  const failures: string[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const r = await fetch(`${workerUrl}/connectors/${connector}/status`).catch(() => null);
      if (r?.status === 200) {
        const s = (await r.json()) as {
          connector: { state: string; trace?: string };
          tasks: Array<{ id: number; state: string; trace?: string }>;
        };
        if (s.connector.state === 'FAILED') failures.push(`connector: ${s.connector.trace ?? ''}`);
        for (const t of s.tasks) if (t.state === 'FAILED') failures.push(`task ${t.id}: ${t.trace ?? ''}`);
      }
      await sleep(250);
    }
  })();
  return {
    stop: async () => {
      watching = false;
      await watcher;
      return failures;
    },
  };
}

/** Sends document change events (key `{document_id}`, header `erpstream.version`), waiting out a broker not ready. */
export function sendDocumentEvents(
  producer: Producer,
  topic: string,
  events: ReadonlyArray<{ id: number; version: bigint }>,
  timeoutMs: number,
): Promise<true> {
  return waitFor(
    () =>
      producer
        .send({
          topic,
          acks: -1,
          messages: events.map((e) => ({
            key: JSON.stringify({ document_id: e.id }),
            value: JSON.stringify({ op: 'u' }),
            headers: { 'erpstream.version': String(e.version) },
          })),
        })
        .then(() => true as const),
    timeoutMs,
    'the input topic to take events',
  );
}

/** mulberry32: a float LCG loses its low bits past 2^53 and cycles over a few values. */
export function seededRandom(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x + 0x6d2b79f5) | 0;
    let t = Math.imul(x ^ (x >>> 15), 1 | x);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

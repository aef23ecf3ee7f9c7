import { describe, expect, it } from 'vitest';
import type { Writer } from '@platformatic/kafka';
import { produceV11 } from '@platformatic/kafka';
import {
  type WireMessage,
  type WireProduceOptions,
  createProduceRequestV11,
  encodeProduceRequestV11,
} from '../../../../runtime/kafka/produce-request.js';

/** A deterministic generator, so a failing seed can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 2246822519) + 3266489917) >>> 0;
    s = (s ^ (s >>> 13)) >>> 0;
    return s / 2 ** 32;
  };
}

function bytes(rand: () => number, max: number): Buffer {
  const b = Buffer.alloc(Math.floor(rand() * (max + 1)));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

const TOPICS = ['orders', 'lines', '42', '7', 'ünïcødé-topic', 'x'.repeat(249)];
const BASE_TS = 1_700_000_000_000n;

/** A random send: the shapes the data-path producer hands over, and the edges of each field. */
function request(seed: number): {
  acks: number;
  timeout: number;
  messages: WireMessage[];
  options: WireProduceOptions;
} {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const topics = TOPICS.slice(0, 1 + Math.floor(rand() * TOPICS.length));
  const n = 1 + Math.floor(rand() * (rand() < 0.2 ? 2000 : 60));
  // Timestamps: one per send (the usual case), a few distinct ones, or spread far apart (negative deltas too).
  const spread = pick([0n, 5n, 100_000n, 2_000_000_000n]);
  const messages: WireMessage[] = [];
  for (let i = 0; i < n; i++) {
    const headers = new Map<Uint8Array | null, Uint8Array | null | undefined>();
    const h = rand() < 0.3 ? 0 : Math.floor(rand() * 5);
    for (let j = 0; j < h; j++) {
      // Repeated header names are distinct Buffer keys of the same bytes, as the producer passes them.
      headers.set(
        Buffer.from(pick(['erpstream.version', 'erpstream.event.id', 'h', ''])),
        rand() < 0.1 ? null : bytes(rand, 80),
      );
    }
    const m: WireMessage = { topic: pick(topics), partition: Math.floor(rand() * 7) };
    const kr = rand();
    if (kr < 0.1) m.key = null;
    else if (kr < 0.15) m.key = Buffer.alloc(0);
    else if (kr > 0.2) m.key = bytes(rand, 40);
    const vr = rand();
    if (vr < 0.05) m.value = null;
    else if (vr < 0.08) m.value = Buffer.alloc(0);
    else if (vr > 0.1) m.value = bytes(rand, vr > 0.97 ? 20_000 : 700);
    if (rand() < 0.95) m.headers = headers;
    else if (rand() < 0.5) m.headers = null;
    if (spread === 0n) m.timestamp = BASE_TS;
    else m.timestamp = BASE_TS + BigInt(Math.floor((rand() - 0.3) * Number(spread)));
    messages.push(m);
  }
  const options: WireProduceOptions = { compression: pick(['none', undefined] as const) };
  if (rand() < 0.8) {
    options.producerId = BigInt(Math.floor(rand() * 2 ** 40));
    options.producerEpoch = Math.floor(rand() * 32767);
    const seqs = new Map<string, number>();
    for (const t of topics) for (let p = 0; p < 7; p++) seqs.set(`${t}:${p}`, Math.floor(rand() * 2 ** 31));
    options.sequences = { getWithDefault: (k, d) => seqs.get(k) ?? d };
  }
  if (rand() < 0.2) options.transactionalId = pick(['', 'tx-1', 'tränsäctiön']);
  if (rand() < 0.2) options.partitionLeaderEpoch = Math.floor(rand() * 1000);
  return { acks: pick([-1, 0, 1]), timeout: Math.floor(rand() * 60_000), messages, options };
}

/** The client's own bytes for a request (fresh messages: its writer normalizes them in place). */
function clientBytes(seed: number): Buffer {
  const r = request(seed);
  const w = produceV11.createRequest(r.acks, r.timeout, r.messages as never, r.options as never) as unknown as Writer;
  return Buffer.from(w.buffer);
}

function ownBytes(seed: number): Buffer | undefined {
  const r = request(seed);
  return encodeProduceRequestV11(r.acks, r.timeout, r.messages, r.options);
}

describe('encodeProduceRequestV11', () => {
  it('writes the client’s bytes for 200 random requests', () => {
    let fast = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const own = ownBytes(seed);
      if (own === undefined) continue;
      fast++;
      const expected = clientBytes(seed);
      if (!own.equals(expected)) {
        // The first differing byte, to make a failure readable.
        let i = 0;
        while (own[i] === expected[i]) i++;
        expect.fail(`seed ${seed}: ${own.length} vs ${expected.length} bytes, first difference at ${i}`);
      }
    }
    // Only sends whose timestamps lie more than 2^31 ms apart leave this path.
    expect(fast).toBeGreaterThan(150);
  });

  it('leaves what it does not write to the client: compression, number timestamps, far timestamps, odd values', () => {
    const base = (): WireMessage[] => [
      { topic: 't', partition: 0, key: Buffer.from('k'), value: Buffer.from('v'), timestamp: BASE_TS },
      { topic: 't', partition: 0, key: Buffer.from('k'), value: Buffer.from('w'), timestamp: BASE_TS },
    ];
    expect(encodeProduceRequestV11(-1, 1000, base(), {})).toBeInstanceOf(Buffer);
    expect(encodeProduceRequestV11(-1, 1000, base(), { compression: 'lz4' })).toBeUndefined();
    const numberTs = base();
    numberTs[1]!.timestamp = 5;
    expect(encodeProduceRequestV11(-1, 1000, numberTs, {})).toBeUndefined();
    const far = base();
    far[1]!.timestamp = BASE_TS + 2n ** 31n;
    expect(encodeProduceRequestV11(-1, 1000, far, {})).toBeUndefined();
    const justInside = base();
    justInside[1]!.timestamp = BASE_TS + 2n ** 31n - 1n;
    expect(encodeProduceRequestV11(-1, 1000, justInside, {})).toBeInstanceOf(Buffer);
    const stringValue = base();
    (stringValue[1] as { value: unknown }).value = 'text';
    expect(encodeProduceRequestV11(-1, 1000, stringValue, {})).toBeUndefined();
    const objectHeaders = base();
    (objectHeaders[0] as { headers: unknown }).headers = { a: Buffer.from('b') };
    expect(encodeProduceRequestV11(-1, 1000, objectHeaders, {})).toBeUndefined();
  });

  it('gives the client’s defaults: partition 0 and the current time for a message without them', () => {
    const make = (): WireMessage[] => [{ topic: 't', key: null, value: Buffer.from('v') }];
    const mine = make();
    const theirs = make();
    const t0 = Date.now();
    const own = encodeProduceRequestV11(1, 1000, mine, {})!;
    const expected = Buffer.from((produceV11.createRequest(1, 1000, theirs as never, {} as never) as Writer).buffer);
    expect(mine[0]!.partition).toBe(0);
    expect(Number(mine[0]!.timestamp)).toBeGreaterThanOrEqual(t0);
    // The same bytes but for the timestamps, which are the clock's (firstTimestamp and maxTimestamp).
    const tsAt = own.length - expected.length; // same length
    expect(tsAt).toBe(0);
    const withTheirTime = make();
    withTheirTime[0]!.partition = 0;
    withTheirTime[0]!.timestamp = theirs[0]!.timestamp!;
    expect(encodeProduceRequestV11(1, 1000, withTheirTime, {})!.equals(expected)).toBe(true);
  });

  it('hands the connection a writer of the bytes, marked when acks=0 expects no response', () => {
    const messages = (): WireMessage[] => [{ topic: 't', partition: 2, value: Buffer.from('v'), timestamp: BASE_TS }];
    const w = createProduceRequestV11(0, 1000, messages(), {}) as Writer;
    expect(w.context.noResponse).toBe(true);
    expect((createProduceRequestV11(-1, 1000, messages(), {}) as Writer).context.noResponse).toBeUndefined();
    expect(Buffer.from(w.buffer).equals(encodeProduceRequestV11(0, 1000, messages(), {})!)).toBe(true);
    // Off the path: the client's own writer, same bytes as it writes.
    const lz4 = createProduceRequestV11(-1, 1000, messages(), { compression: 'lz4' }) as Writer;
    const theirs = produceV11.createRequest(-1, 1000, messages() as never, { compression: 'lz4' } as never) as Writer;
    expect(Buffer.from(lz4.buffer).equals(Buffer.from(theirs.buffer))).toBe(true);
  });
});

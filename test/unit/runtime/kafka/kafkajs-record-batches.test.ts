import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import '../../../../runtime/kafka/index.js';
import type { DecodedRecord } from '../../../../runtime/kafka/kafkajs-record-batches.js';
import {
  KafkaJSPartialMessageError,
  KafkajsDecoder as Decoder,
  kafkajsBatchDecoder,
  runtimeBatchDecoder,
} from '../../../support/kafkajs-batches.js';

const require = createRequire(import.meta.url);
const ours = runtimeBatchDecoder();
const theirs = kafkajsBatchDecoder();

// --- a record batch writer (magic 2), independent of both decoders ---

function zigzag(v: bigint): bigint {
  return v >= 0n ? v << 1n : (-v << 1n) - 1n;
}
function varint(v: number | bigint): Buffer {
  let u = BigInt.asUintN(64, zigzag(BigInt(v)));
  const out: number[] = [];
  do {
    const b = Number(u & 0x7fn);
    u >>= 7n;
    out.push(u > 0n ? b | 0x80 : b);
  } while (u > 0n);
  return Buffer.from(out);
}
function sized(b: Buffer | null): Buffer {
  return b === null ? varint(-1) : Buffer.concat([varint(b.length), b]);
}

interface SpecRecord {
  offsetDelta: number;
  timestampDelta: number | bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<[string | null, Buffer | null]>;
}
interface SpecBatch {
  firstOffset: bigint;
  firstTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  transactional: boolean;
  control: boolean;
  logAppendTime: boolean;
  gzip: boolean;
  records: SpecRecord[];
}

function record(r: SpecRecord): Buffer {
  const body = Buffer.concat([
    Buffer.from([0]),
    varint(r.timestampDelta),
    varint(r.offsetDelta),
    sized(r.key),
    sized(r.value),
    varint(r.headers.length),
    ...r.headers.flatMap(([k, v]) => [sized(k === null ? null : Buffer.from(k)), sized(v)]),
  ]);
  return Buffer.concat([varint(body.length), body]);
}

function batch(b: SpecBatch): Buffer {
  const attributes =
    (b.gzip ? 1 : 0) | (b.logAppendTime ? 0x8 : 0) | (b.transactional ? 0x10 : 0) | (b.control ? 0x20 : 0);
  const recs = Buffer.concat(b.records.map(record));
  const head = Buffer.alloc(4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4);
  let o = 0;
  o = head.writeInt32BE(7, o);
  o = head.writeInt8(2, o);
  o = head.writeUInt32BE(0, o);
  o = head.writeInt16BE(attributes, o);
  o = head.writeInt32BE(Math.max(0, ...b.records.map((r) => r.offsetDelta)), o);
  o = head.writeBigInt64BE(b.firstTimestamp, o);
  o = head.writeBigInt64BE(b.maxTimestamp, o);
  o = head.writeBigInt64BE(b.producerId, o);
  o = head.writeInt16BE(3, o);
  o = head.writeInt32BE(11, o);
  head.writeInt32BE(b.records.length, o);
  const body = Buffer.concat([head, b.gzip ? gzipSync(recs) : recs]);
  const prefix = Buffer.alloc(12);
  prefix.writeBigInt64BE(b.firstOffset, 0);
  prefix.writeInt32BE(body.length, 8);
  return Buffer.concat([prefix, body]);
}

/** A deterministic generator (mulberry32), so that a failure names a seed that reproduces it. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

const BIG_OFFSETS = [0n, 1n, 2n ** 31n, 2n ** 53n - 5n, 2n ** 53n + 3n, 2n ** 62n];
const TIMESTAMPS = [-1n, 0n, 1_796_562_646_681n, 2n ** 53n - 2n, 2n ** 60n, -(2n ** 40n)];
const DELTAS: Array<number | bigint> = [
  0,
  1,
  -1,
  63,
  -64,
  64,
  8191,
  -8192,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 48,
  -(2 ** 48),
  2n ** 55n,
  -(2n ** 62n),
];

function randomBytes(r: ReturnType<typeof rng>): Buffer | null {
  const n = r.pick([-1, 0, 1, 5, 127, 128, 300, 3000]);
  if (n === -1) return null;
  const b = Buffer.alloc(n, r.int(256));
  for (let i = 0; i < n; i += 97) b[i] = r.int(256);
  return b;
}

function randomBatch(r: ReturnType<typeof rng>): SpecBatch {
  const count = r.pick([0, 1, 2, 7, 40]);
  let offsetDelta = 0;
  return {
    firstOffset: r.pick(BIG_OFFSETS),
    firstTimestamp: r.pick(TIMESTAMPS),
    maxTimestamp: r.pick(TIMESTAMPS),
    producerId: r.pick([-1n, 0n, 12n, 2n ** 60n]),
    transactional: r.next() < 0.3,
    control: r.next() < 0.1,
    logAppendTime: r.next() < 0.2,
    gzip: r.next() < 0.3,
    records: Array.from({ length: count }, () => ({
      offsetDelta: (offsetDelta += r.pick([0, 1, 1, 1, 3, 200])),
      timestampDelta: r.pick(DELTAS),
      key: randomBytes(r),
      value: randomBytes(r),
      headers: Array.from({ length: r.pick([0, 0, 1, 3]) }, () => [
        r.pick(['a', 'b', 'trace-id', 'ümlaut', '', null]),
        randomBytes(r),
      ]),
    })),
  };
}

/** kafkajs's records as plain objects have no `headerList`: ours compared without it (and `headers` read). */
function withoutHeaderLists<T extends { records: DecodedRecord[] }>(batch: T) {
  return {
    ...batch,
    records: batch.records.map((m) => ({
      magicByte: m.magicByte,
      attributes: m.attributes,
      timestamp: m.timestamp,
      offset: m.offset,
      key: m.key,
      value: m.value,
      headers: m.headers,
      isControlRecord: m.isControlRecord,
      batchContext: m.batchContext,
    })),
  };
}

async function both(bytes: Buffer) {
  const d1 = new Decoder(bytes);
  const d2 = new Decoder(bytes);
  const a = await ours(d1);
  const b = await theirs(d2);
  return { ours: a, theirs: b, oursAt: d1.offset, theirsAt: d2.offset };
}

describe('fast record batch decoding (kafkajs fetch responses)', () => {
  it('decodes 300 random batches as kafkajs does (offsets, timestamps, keys, values, headers, batch fields) and lists headers as written', async () => {
    const seeds = Number(process.env.RECORD_BATCH_SEEDS ?? 300);
    for (let seed = 1; seed <= seeds; seed++) {
      const spec = randomBatch(rng(seed));
      const { ours: a, theirs: b, oursAt, theirsAt } = await both(batch(spec));
      expect(withoutHeaderLists(a), `seed ${seed}`).toEqual(b);
      // And the headers as written: in order, repeated keys as often as they came.
      expect(
        a.records.map((m) => m.headerList),
        `seed ${seed}`,
      ).toEqual(spec.records.map((r) => r.headers.map(([k, v]) => [String(k), v])));
      expect(oursAt, `seed ${seed}: where the next batch starts`).toBe(theirsAt);
      // One context object per batch, shared by its records (the read_committed filter relies on it).
      expect(new Set(a.records.map((m) => m.batchContext)).size, `seed ${seed}`).toBeLessThanOrEqual(1);
    }
  });

  it('gives exact offsets and timestamps past 2^53 (where a number would round)', async () => {
    const spec = randomBatch(rng(1));
    spec.firstOffset = 2n ** 53n + 1n;
    spec.firstTimestamp = 2n ** 53n + 1n;
    spec.logAppendTime = false;
    spec.records = [0, 1, 2].map((d) => ({ offsetDelta: d, timestampDelta: d, key: null, value: null, headers: [] }));
    const { ours: a } = await both(batch(spec));
    expect(a.records.map((m) => m.offset)).toEqual(['9007199254740993', '9007199254740994', '9007199254740995']);
    expect(a.records.map((m) => m.timestamp)).toEqual(['9007199254740993', '9007199254740994', '9007199254740995']);
  });

  it('reads batches one after another from one response and stops at a partial one as kafkajs does', async () => {
    const r = rng(77);
    const batches = [randomBatch(r), randomBatch(r), randomBatch(r)].map(batch);
    const whole = Buffer.concat(batches);
    const cut = whole.subarray(0, whole.length - 5);
    const d1 = new Decoder(cut);
    const d2 = new Decoder(cut);
    for (let i = 0; i < 2; i++) expect(withoutHeaderLists(await ours(d1))).toEqual(await theirs(d2));
    await expect(ours(d1)).rejects.toBeInstanceOf(KafkaJSPartialMessageError);
    await expect(theirs(d2)).rejects.toBeInstanceOf(KafkaJSPartialMessageError);
  });

  it('keeps header keys that name Object.prototype members as plain headers', async () => {
    const spec = randomBatch(rng(3));
    const v = (s: string) => Buffer.from(s);
    spec.gzip = false;
    spec.records = [
      {
        offsetDelta: 0,
        timestampDelta: 0,
        key: null,
        value: v('x'),
        headers: [
          ['__proto__', v('p')],
          ['toString', v('t')],
          ['dup', v('1')],
          ['dup', null],
          ['dup', v('3')],
        ],
      },
    ];
    const { ours: a } = await both(batch(spec));
    const h = a.records[0]!.headers;
    expect(Object.getPrototypeOf(h)).toBe(Object.prototype);
    expect(Object.keys(h)).toEqual(['__proto__', 'toString', 'dup']);
    expect(h['toString']).toEqual(v('t'));
    expect(Object.getOwnPropertyDescriptor(h, '__proto__')?.value).toEqual(v('p'));
    expect(h['dup']).toEqual([v('1'), null, v('3')]);
    expect(a.records[0]!.headerList.map(([k]) => k)).toEqual(['__proto__', 'toString', 'dup', 'dup', 'dup']);
  });

  it('is what kafkajs consumers of this process decode with', () => {
    const loaded = require('kafkajs/src/protocol/recordBatch/v0/decoder.js');
    expect(loaded[Symbol.for('erpstream.kafkajs.recordBatches')]).toBe(true);
  });
});

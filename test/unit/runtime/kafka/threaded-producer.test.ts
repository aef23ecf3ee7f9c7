import { describe, expect, it } from 'vitest';
import type { ProducerRecord } from '../../../../runtime/kafka/index.js';
import { pack, unpack } from '../../../../runtime/kafka/threaded-producer.js';

/** What crosses to the producer thread must come back as the same records, byte for byte and in order. */
describe('records packed for the producer thread', () => {
  it('keep topics, partitions, keys, values, tombstones, repeated and null headers, and timestamps', () => {
    const records: ProducerRecord[] = [
      { topic: 'a', key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: 1_700_000_000_123 },
      { topic: 'b', partition: 2, key: null, value: null },
      {
        topic: 'a',
        partition: null,
        key: Buffer.from(''),
        value: Buffer.from([0, 1, 2, 255]),
        headers: [
          ['dup', Buffer.from('1')],
          ['dup', Buffer.from('2')],
          ['none', null],
        ],
        timestamp: null,
      },
      { topic: 'c', key: Buffer.from('x'), value: Buffer.alloc(0), headers: [] },
    ];
    const back = unpack(pack(records));
    expect(back.map((r) => [r.topic, r.partition ?? null, r.key, r.value, r.timestamp ?? null])).toEqual(
      records.map((r) => [r.topic, r.partition ?? null, r.key, r.value, r.timestamp ?? null]),
    );
    expect(back[2]!.headers).toEqual([
      ['dup', Buffer.from('1')],
      ['dup', Buffer.from('2')],
      ['none', null],
    ]);
    expect(back[0]!.headers ?? []).toEqual([]);
  });

  it('copies the bytes into memory of their own, so the caller may reuse its buffers and the copy can move', () => {
    const key = Buffer.from('key');
    const packed = pack([{ topic: 't', key, value: Buffer.from('value') }]);
    key.write('KEY');
    expect(unpack(packed)[0]!.key!.toString()).toBe('key');
    // Transferable: not a slice of Node's shared buffer pool.
    expect(packed.bytes.byteOffset).toBe(0);
    expect(packed.bytes.buffer.byteLength).toBe(8);
  });
});

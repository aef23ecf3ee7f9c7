import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { javaPartition, murmur2 } from '../../../../runtime/kafka/murmur2.js';

// kafkajs's DefaultPartitioner is the Java client's (murmur2, sign bit masked): records keyed alike must land on the
// same partition whichever client wrote them, or consumers relying on co-partitioning see keys split.
const kafkajs = Partitioners.DefaultPartitioner();
const partitionMetadata = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }));

describe('murmur2 partitioning', () => {
  it('matches the Java-compatible partitioner for any key and partition count', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 500 }), (bytes, n) => {
        const key = Buffer.from(bytes);
        const expected = kafkajs({
          topic: 't',
          partitionMetadata: partitionMetadata(n),
          message: { key, value: null },
        });
        expect(javaPartition(key, n)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the known Java values', () => {
    // From the Java client's own test (Utils.murmur2 of these ASCII strings).
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from([97, 98, 99]))).toBe(479470107);
  });
});

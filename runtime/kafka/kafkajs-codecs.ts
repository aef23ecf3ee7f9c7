import { compressionsAlgorithms } from '@platformatic/kafka';
// Not named imports: Node's CommonJS export detection does not see these two in kafkajs's index.
import kafkajs from 'kafkajs';

/**
 * kafkajs decodes only gzip by itself: a record batch in snappy, lz4 or zstd (what Java producers and brokers with
 * `compression.type` write) makes its consumer fail the fetch over and over, so a sink on such a topic stalls
 * without a word. The data-path client already has all four codecs (Kafka's xerial snappy framing and LZ4 frames
 * included); kafkajs gets them from there, once per process.
 */
let registered = false;

export function registerKafkaCodecs(): void {
  if (registered) return;
  registered = true;
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  const codecs = [
    [CompressionTypes.Snappy, compressionsAlgorithms.snappy],
    [CompressionTypes.LZ4, compressionsAlgorithms.lz4],
    [CompressionTypes.ZSTD, compressionsAlgorithms.zstd],
  ] as const;
  for (const [type, algorithm] of codecs) {
    if (!algorithm.available) continue;
    CompressionCodecs[type] = () => ({
      async compress(encoder: { buffer: Buffer }) {
        return algorithm.compressSync(encoder.buffer);
      },
      async decompress(buffer: Buffer) {
        return algorithm.decompressSync(buffer);
      },
    });
  }
}

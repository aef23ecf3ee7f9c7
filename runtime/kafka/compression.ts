/**
 * Kafka's record batch codecs, as `compression.type` names them: the one list the worker's settings check against.
 * A module of its own so that config parsing (the CLI included) names them without loading a Kafka client.
 */
export const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** The codec a `compression.type` value names (case and spaces as Kafka ignores them), or undefined. */
export function compressionNamed(raw: string): Compression | undefined {
  const name = raw.trim().toLowerCase();
  return COMPRESSIONS.find((c) => c === name);
}

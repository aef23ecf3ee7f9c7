import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from './fake-kafka.js';
import { type Harness, startHarness } from './harness.js';
import { testRegistry } from './test-plugins.js';

describe('producer.override.compression.type (in-memory Kafka)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ 'producer.compression.type': 'gzip' }, { registry: testRegistry() });
  });
  afterEach(async () => {
    await h.worker.stop();
  });

  const source = (name: string, extra: Record<string, string> = {}) =>
    h.req('POST', '/connectors', { name, config: { 'connector.class': 'FlakySource', topic: name, ...extra } });

  it("a source connector's records go through a producer with its codec; others share the worker's", async () => {
    expect((await source('plain')).status).toBe(201);
    expect((await source('packed', { 'producer.override.compression.type': ' ZSTD ' })).status).toBe(201);
    expect((await source('packed-too', { 'producer.override.compression.type': 'zstd' })).status).toBe(201);
    await waitFor(() => h.kafka.producersMade.length >= 2, 5000, 'the two producers');
    await new Promise((r) => setTimeout(r, 200));
    expect(h.kafka.producersMade.map((p) => p.compression).sort()).toEqual(['gzip', 'zstd']);
  });

  it('an unknown codec is refused by validation, naming the key and the choices', async () => {
    const bad = await source('bad', { 'producer.override.compression.type': 'brotli' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain(
      'Invalid value brotli for configuration producer.override.compression.type: String must be one of: none, gzip, snappy, lz4, zstd',
    );
  });
});

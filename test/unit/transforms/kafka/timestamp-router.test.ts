import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, Headers, Schemas } from '../../../../runtime/api/index.js';
import { timestampRouterPlugin } from '../../../../transforms/kafka/timestamp-router.js';
import { KAFKA, apply, record, sinkRecord, transform } from './record-smt-fixtures.js';

const at = Date.UTC(2024, 0, 15, 23, 59, 59, 999);

describe('TimestampRouter', () => {
  it('is registered under its class name and alias, with Connect defaults', () => {
    expect(timestampRouterPlugin.className).toBe(`${KAFKA}TimestampRouter`);
    expect(timestampRouterPlugin.aliases).toEqual(['TimestampRouter']);
    expect(timestampRouterPlugin.config.key('topic.format')!.defaultValue).toBe('${topic}-${timestamp}');
    expect(timestampRouterPlugin.config.key('timestamp.format')!.defaultValue).toBe('yyyyMMdd');
  });

  it('defaults to <topic>-<yyyyMMdd in UTC>', () => {
    const out = apply(transform('TimestampRouter'), record({ topic: 'orders', timestamp: at }));
    expect(out.topic).toBe('orders-20240115');
  });

  it('substitutes every placeholder and keeps the rest of the record', () => {
    const r = sinkRecord({ topic: 'orders', timestamp: at, value: { id: 1 }, headers: Headers.of({ h: 1 }) });
    const t = transform(`${KAFKA}TimestampRouter`, {
      'topic.format': 'archive.${topic}.${timestamp}.${topic}',
      'timestamp.format': "yyyy.MM.dd'T'HH",
    });
    const out = apply(t, r);
    expect(out.topic).toBe('archive.orders.2024.01.15T23.orders');
    expect(out).toEqual({ ...r, topic: out.topic });
  });

  it('inserts a topic containing $ literally', () => {
    expect(apply(transform('TimestampRouter'), record({ topic: 'a$1$&', timestamp: at })).topic).toBe('a$1$&-20240115');
  });

  it('routes tombstones too', () => {
    const out = apply(
      transform('TimestampRouter'),
      record({ topic: 't', value: null, valueSchema: Schemas.OPTIONAL_STRING, timestamp: 0 }),
    );
    expect(out.topic).toBe('t-19700101');
  });

  it('fails with "Timestamp missing on record" without leaking key or value', () => {
    const t = transform('TimestampRouter');
    let err: unknown;
    try {
      t.apply(sinkRecord({ topic: 'orders', timestamp: null, key: 'secret-key', value: 'secret-value' }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toBe(
      "Timestamp missing on record: ConnectRecord{topic='orders', kafkaPartition=3, kafkaOffset=42, timestamp=null}",
    );
  });

  it('rejects a timestamp.format it cannot honour, naming the key', () => {
    let err: unknown;
    try {
      transform('TimestampRouter', { 'timestamp.format': 'YYYY-ww' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe('timestamp.format');
    expect((err as Error).message).toContain("pattern letter 'Y' (week year) is not supported");
    expect(() => transform('TimestampRouter', { 'timestamp.format': 'yyyy-bb' })).toThrow(
      "Illegal pattern character 'b'",
    );
  });
});

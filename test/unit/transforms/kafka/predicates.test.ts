import { describe, expect, it } from 'vitest';
import { ConfigError, Headers, Schemas } from '../../../../runtime/api/index.js';
import { predicatePlugins } from '../../../../transforms/kafka/record-transforms.js';
import { predicate, record } from './record-smt-fixtures.js';

const PKG = 'org.apache.kafka.connect.transforms.predicates.';

describe('predicate plugins', () => {
  it('are registered under Connect class names with simple aliases', () => {
    expect(predicatePlugins.map((p) => [p.className, p.aliases])).toEqual([
      [`${PKG}TopicNameMatches`, ['TopicNameMatches']],
      [`${PKG}HasHeaderKey`, ['HasHeaderKey']],
      [`${PKG}RecordIsTombstone`, ['RecordIsTombstone']],
    ]);
    for (const p of predicatePlugins) expect(p.example).toBeDefined();
  });
});

describe('TopicNameMatches', () => {
  it('is true only when the pattern matches the whole topic name', () => {
    const p = predicate(`${PKG}TopicNameMatches`, { pattern: 'erp\\.legacy\\..*' });
    expect(p.test(record({ topic: 'erp.legacy.orders' }))).toBe(true);
    expect(p.test(record({ topic: 'x.erp.legacy.orders' }))).toBe(false);
    expect(predicate('TopicNameMatches', { pattern: 'legacy' }).test(record({ topic: 'erp.legacy.orders' }))).toBe(
      false,
    );
  });

  it('does not depend on key, value or schemas', () => {
    const p = predicate('TopicNameMatches', { pattern: 'orders' });
    expect(p.test(record({ topic: 'orders', value: null }))).toBe(true);
    expect(p.test(record({ topic: 'orders', valueSchema: Schemas.STRING, value: 'x' }))).toBe(true);
  });

  it('requires a non-empty valid pattern, naming the key', () => {
    expect(() => predicate('TopicNameMatches', {})).toThrow(
      'Missing required configuration "pattern" which has no default value.',
    );
    expect(() => predicate('TopicNameMatches', { pattern: '' })).toThrow(
      'Invalid value  for configuration pattern: String must be non-empty',
    );
    let err: unknown;
    try {
      predicate('TopicNameMatches', { pattern: '*orders' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe('pattern');
    expect((err as Error).message).toMatch(/^Invalid value \*orders for configuration pattern: Invalid regex/);
  });
});

describe('HasHeaderKey', () => {
  it('is true when at least one header has the name, whatever its value', () => {
    const p = predicate('HasHeaderKey', { name: 'replay' });
    expect(p.test(record({ headers: Headers.of({ replay: null }) }))).toBe(true);
    expect(p.test(record({ headers: Headers.add(Headers.of({ a: 1 }), 'replay', 'x') }))).toBe(true);
    expect(p.test(record({ headers: Headers.of({ Replay: 'x', replayed: 'y' }) }))).toBe(false);
    expect(p.test(record())).toBe(false);
  });

  it('requires a non-empty name', () => {
    expect(() => predicate('HasHeaderKey', {})).toThrow('Missing required configuration "name"');
    expect(() => predicate('HasHeaderKey', { name: '  ' })).toThrow(
      'Invalid value  for configuration name: String must be non-empty',
    );
  });
});

describe('RecordIsTombstone', () => {
  it('is true exactly when the value is null', () => {
    const p = predicate('RecordIsTombstone');
    expect(p.test(record({ key: 'k', value: null }))).toBe(true);
    expect(p.test(record({ key: 'k', valueSchema: Schemas.OPTIONAL_STRING, value: null }))).toBe(true);
    expect(p.test(record({ value: '' }))).toBe(false);
    expect(p.test(record({ value: 0 }))).toBe(false);
    expect(p.test(record({ value: {} }))).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { Headers, Schemas } from '../../../../runtime/api/index.js';
import { dropHeadersPlugin } from '../../../../transforms/kafka/drop-headers.js';
import { KAFKA, apply, record, transform } from './record-smt-fixtures.js';

describe('DropHeaders', () => {
  it('is registered under its class name and alias', () => {
    expect(dropHeadersPlugin.className).toBe(`${KAFKA}DropHeaders`);
    expect(dropHeadersPlugin.aliases).toEqual(['DropHeaders']);
  });

  it('removes every header with a listed name and keeps the others in order', () => {
    let headers = Headers.of({ a: 1, trace: 't1', b: 2 });
    headers = Headers.add(headers, 'trace', 't2');
    headers = Headers.add(headers, 'internal', 'x', Schemas.STRING);
    const r = record({ key: 'k', value: { id: 1 }, headers });
    const out = apply(transform('DropHeaders', { headers: 'trace, internal' }), r);
    expect(out.headers.map((h) => [h.key, h.value])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect({ ...out, headers }).toEqual(r);
    expect(r.headers).toHaveLength(5);
  });

  it('is a no-op for records without those headers, tombstones included', () => {
    const out = apply(transform(`${KAFKA}DropHeaders`, { headers: 'x' }), record({ value: null }));
    expect(out.headers).toEqual([]);
    expect(out.value).toBeNull();
  });

  it('requires a non-empty list', () => {
    expect(() => transform('DropHeaders', {})).toThrow(
      'Missing required configuration "headers" which has no default value.',
    );
    expect(() => transform('DropHeaders', { headers: '' })).toThrow('for configuration headers: Empty list');
  });
});

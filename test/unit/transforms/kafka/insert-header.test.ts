import { describe, expect, it } from 'vitest';
import { ConfigError, Headers, SchemaBuilder, Schemas, Struct } from '../../../../runtime/api/index.js';
import { insertHeaderPlugin } from '../../../../transforms/kafka/insert-header.js';
import { KAFKA, apply, record, transform } from './record-smt-fixtures.js';

const insert = (literal: string, header = 'h') => transform('InsertHeader', { header, 'value.literal': literal });

describe('InsertHeader', () => {
  it('is registered under its class name and alias, with both keys required', () => {
    expect(insertHeaderPlugin.className).toBe(`${KAFKA}InsertHeader`);
    expect(insertHeaderPlugin.aliases).toEqual(['InsertHeader']);
    expect(() => transform('InsertHeader', { 'value.literal': 'x' })).toThrow(
      'Missing required configuration "header" which has no default value.',
    );
    expect(() => transform('InsertHeader', { header: 'h' })).toThrow(
      'Missing required configuration "value.literal" which has no default value.',
    );
    let err: unknown;
    try {
      transform('InsertHeader', { header: null, 'value.literal': 'x' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('Invalid value null for configuration header: Entry must be non null');
  });

  it('appends a string header and keeps everything else', () => {
    const schema = SchemaBuilder.struct().field('id', Schemas.INT32).build();
    const value = new Struct(schema).put('id', 1);
    const r = record({ key: 'k', keySchema: Schemas.STRING, valueSchema: schema, value });
    const out = apply(insert('erp-eu-1', 'origin'), r);
    expect(out.headers).toEqual([{ key: 'origin', value: 'erp-eu-1', schema: Schemas.STRING }]);
    expect({ ...out, headers: r.headers }).toEqual(r);
    expect(out.value).toBe(value);
  });

  it('adds the header even when one with the same name exists (Connect appends)', () => {
    const r = record({ headers: Headers.of({ origin: 'old' }) });
    const out = apply(insert('new', 'origin'), r);
    expect(Headers.all(out.headers, 'origin').map((h) => h.value)).toEqual(['old', 'new']);
    expect(Headers.last(out.headers, 'origin')!.value).toBe('new');
    expect(r.headers).toHaveLength(1);
  });

  it('types the literal as Values.parseString does', () => {
    const header = (literal: string) => apply(insert(literal), record()).headers[0]!;
    expect(header('42')).toMatchObject({ value: 42, schema: Schemas.INT8 });
    expect(header('300')).toMatchObject({ value: 300, schema: Schemas.INT16 });
    expect(header('-70000')).toMatchObject({ value: -70000, schema: Schemas.INT32 });
    expect(header('9007199254740993')).toMatchObject({ value: 9007199254740993n, schema: Schemas.INT64 });
    expect(header('1.5')).toMatchObject({ value: 1.5, schema: Schemas.FLOAT32 });
    expect(header('true')).toMatchObject({ value: true, schema: Schemas.BOOLEAN });
    expect(header('null')).toMatchObject({ value: null, schema: null });
    expect(header('hello world')).toMatchObject({ value: 'hello world', schema: Schemas.STRING });
  });

  it('adds the header to tombstones too', () => {
    const out = apply(insert('x'), record({ value: null }));
    expect(out.value).toBeNull();
    expect(out.headers).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, Headers, Schemas, Struct, SchemaBuilder } from '../../../../runtime/api/index.js';
import { regexRouterPlugin } from '../../../../transforms/kafka/regex-router.js';
import { KAFKA, apply, record, sinkRecord, transform } from './record-smt-fixtures.js';

const route = (regex: string, replacement: string) => transform('RegexRouter', { regex, replacement });

describe('RegexRouter', () => {
  it('is registered under its class name and simple alias', () => {
    expect(regexRouterPlugin.className).toBe(`${KAFKA}RegexRouter`);
    expect(regexRouterPlugin.aliases).toEqual(['RegexRouter']);
    expect(transform(`${KAFKA}RegexRouter`, { regex: 'a', replacement: 'b' })).toBeDefined();
  });

  it('rewrites the topic with Java $n group references when the regex matches the whole topic', () => {
    const out = apply(route('erp\\.dbo\\.(.*)', 'erp.$1.v1'), record({ topic: 'erp.dbo.shipments' }));
    expect(out.topic).toBe('erp.shipments.v1');
  });

  it('leaves the record untouched (same object) when the regex matches only part of the topic', () => {
    const t = route('dbo', 'x');
    const r = record({ topic: 'erp.dbo.shipments' });
    expect(t.apply(r)).toBe(r);
  });

  it('supports the classic Connect examples', () => {
    expect(apply(route('(.*)-(.*)-(.*)', '$3'), record({ topic: 'a-b-c' })).topic).toBe('c');
    expect(apply(route('.*', 'all'), record({ topic: 'anything' })).topic).toBe('all');
    expect(apply(route('([a-z]+)_(\\d+)', '$2_$1'), record({ topic: 'orders_2024' })).topic).toBe('2024_orders');
  });

  it('supports named groups, \\$ for a literal dollar and \\\\ for a backslash', () => {
    expect(apply(route('(?<tbl>[a-z]+)', '${tbl}-out'), record({ topic: 'orders' })).topic).toBe('orders-out');
    expect(apply(route('(.*)', '\\$$1'), record({ topic: 'orders' })).topic).toBe('$orders');
    expect(apply(route('(.*)', 'a\\\\$1'), record({ topic: 'orders' })).topic).toBe('a\\orders');
  });

  it('reads multi-digit group numbers greedily only while the group exists (Java rule)', () => {
    // One group: "$10" is group 1 followed by a literal "0".
    expect(apply(route('(x)', '$10'), record({ topic: 'x' })).topic).toBe('x0');
    const twelve = '(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)';
    expect(apply(route(twelve, '$12$1'), record({ topic: 'abcdefghijkl' })).topic).toBe('la');
  });

  it('inserts nothing for a group that did not participate in the match', () => {
    expect(apply(route('(a)?(b)', '[$1][$2]'), record({ topic: 'b' })).topic).toBe('[][b]');
  });

  it('replaces only the first find() match, as Matcher.replaceFirst does after matches()', () => {
    // matches() needs the 'ab' alternative, but replaceFirst's find() picks 'a' first.
    expect(apply(route('a|ab', 'X'), record({ topic: 'ab' })).topic).toBe('Xb');
  });

  it('honours a leading (?i) flag and \\Q…\\E quoting', () => {
    expect(apply(route('(?i)ERP\\.(.*)', '$1'), record({ topic: 'erp.orders' })).topic).toBe('orders');
    expect(apply(route('\\Qerp.dbo.\\E(.*)', '$1'), record({ topic: 'erp.dbo.x' })).topic).toBe('x');
    expect(route('\\Qerp.dbo.\\E(.*)', '$1').apply(record({ topic: 'erpXdboYx' }))!.topic).toBe('erpXdboYx');
  });

  it('keeps key, value, schemas, partition, timestamp and headers', () => {
    const schema = SchemaBuilder.struct().field('id', Schemas.INT64).build();
    const value = new Struct(schema).put('id', 7n);
    const headers = Headers.of({ h: 'v' });
    const r = sinkRecord({
      topic: 'erp.dbo.t',
      key: 'k',
      keySchema: Schemas.STRING,
      valueSchema: schema,
      value,
      headers,
    });
    const out = apply(route('erp\\.dbo\\.(.*)', '$1'), r);
    expect(out).toEqual({ ...r, topic: 't' });
    expect(out.value).toBe(value);
  });

  it('routes tombstones like any other record', () => {
    const out = apply(route('(.*)', '$1-deleted'), record({ value: null }));
    expect(out.topic).toBe('erp.dbo.shipments-deleted');
    expect(out.value).toBeNull();
  });

  it('names the missing key', () => {
    expect(() => transform('RegexRouter', { replacement: 'x' })).toThrow(
      'Missing required configuration "regex" which has no default value.',
    );
    expect(() => transform('RegexRouter', { regex: 'x' })).toThrow(
      'Missing required configuration "replacement" which has no default value.',
    );
  });

  it('names an invalid regex with Connect\'s "Invalid regex" message', () => {
    const err = catchError(() => route('(unclosed', 'x'));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe('regex');
    expect(err.message).toMatch(/^Invalid value \(unclosed for configuration regex: Invalid regex: /);
  });

  it('refuses Java constructs JavaScript cannot reproduce rather than matching differently', () => {
    expect(() => route('a*+', 'x')).toThrow(/configuration regex: Invalid regex: possessive quantifiers/);
    expect(() => route('(?>a)', 'x')).toThrow(/atomic groups/);
    expect(() => route('[a-z&&[^e]]', 'x')).toThrow(/intersection/);
    expect(() => route('a(?i)b', 'x')).toThrow(/inline flags are supported only at the start/);
    expect(() => route('\\h+', 'x')).toThrow(/unsupported escape sequence \\h/);
  });

  it('rejects a replacement that references a missing group at configure time, naming the key', () => {
    const err = catchError(() => route('(.*)', '$2'));
    expect((err as ConfigError).key).toBe('replacement');
    expect(err.message).toContain('for configuration replacement: No group 2');
    expect(() => route('(.*)', '${nope}')).toThrow('No group with name {nope}');
    expect(() => route('(.*)', 'cost$')).toThrow('Illegal group reference: group index is missing');
    expect(() => route('(.*)', '$x')).toThrow('Illegal group reference');
    expect(() => route('(.*)', 'trailing\\')).toThrow('character to be escaped is missing');
  });

  it('validates the regex through the ConfigDef as well (REST validate reports it)', () => {
    const results = regexRouterPlugin.config.validateAll({ regex: '[', replacement: 'x' });
    expect(results.get('regex')!.errors[0]).toMatch(/Invalid regex/);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

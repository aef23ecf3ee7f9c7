import { describe, expect, it } from 'vitest';
import {
  RecordDecoder,
  type TailRecord,
  keyId,
  parseFromTimestamp,
  renderTailRecord,
} from '../../../../cli/commands/tail.js';
import { plainStyle } from '../../../../cli/output.js';
import {
  Decimal,
  DecimalType,
  SchemaBuilder,
  Schemas,
  Struct,
  stringifyJsonExact,
} from '../../../../runtime/api/index.js';
import { JsonConverter } from '../../../../runtime/converters/index.js';

describe('RecordDecoder (no registry)', () => {
  const decoder = new RecordDecoder();

  it("parses JSON exactly and unwraps Connect's schema envelope", async () => {
    const plain = await decoder.decode('t', Buffer.from('{"n":12345678901234567890,"amount":0.10}'), false);
    expect(plain.format).toBe('json');
    expect(stringifyJsonExact(plain.value)).toBe('{"n":12345678901234567890,"amount":0.10}');
    const envelope = await decoder.decode('t', Buffer.from('{"schema":{"type":"string"},"payload":"hello"}'), false);
    expect(envelope).toEqual({ format: 'json', value: 'hello' });
  });

  it('shows the logical types of an enveloped record as values, as the Avro path does (a decimal is 10.50)', async () => {
    const schema = SchemaBuilder.struct()
      .field('SHPMT_NO', Schemas.INT64)
      .field('amount', DecimalType.builder(2).optional().build())
      .field('nothing', DecimalType.builder(2).optional().build())
      .build();
    const converter = new JsonConverter();
    converter.configure({ 'schemas.enable': 'true' }, false);
    const row = new Struct(schema)
      .put('SHPMT_NO', 2n ** 60n)
      .put('amount', Decimal.parse('-10.50'))
      .put('nothing', null);
    const bytes = await converter.fromConnectData('t', [], schema, row);
    expect(bytes!.toString()).toContain('"amount":"++Y="');
    const shown = await decoder.decode('t', bytes, false);
    expect(stringifyJsonExact(shown.value)).toBe('{"SHPMT_NO":1152921504606846976,"amount":-10.50,"nothing":null}');
    // A payload its schema does not describe is shown as written, not dropped.
    const odd = await decoder.decode('t', Buffer.from('{"schema":{"type":"int32"},"payload":"not a number"}'), false);
    expect(odd).toEqual({ format: 'json', value: 'not a number' });
  });

  it('shows text as text, binary as base64 and null as null', async () => {
    expect(await decoder.decode('t', Buffer.from('S0000001'), true)).toEqual({ format: 'string', value: 'S0000001' });
    expect(await decoder.decode('t', Buffer.from([0xff, 0xfe, 0x01]), false)).toEqual({
      format: 'base64',
      value: '//4B',
    });
    expect(await decoder.decode('t', null, false)).toEqual({ format: 'null', value: null });
  });

  it('without a registry, Avro-framed bytes are shown as base64 in auto mode and refused with --format avro', async () => {
    const framed = Buffer.from([0, 0, 0, 0, 7, 2, 0x41]);
    expect((await decoder.decode('t', framed, false)).format).toBe('base64');
    await expect(new RecordDecoder({ format: 'avro' }).decode('t', framed, false)).rejects.toThrow(
      'Avro decoding needs the schema registry.',
    );
  });

  it('--format json refuses text that is not JSON, naming the topic', async () => {
    await expect(new RecordDecoder({ format: 'json' }).decode('orders', Buffer.from('nope'), false)).rejects.toThrow(
      'A record on orders is not JSON',
    );
  });

  it('--format string never parses', async () => {
    expect(await new RecordDecoder({ format: 'string' }).decode('t', Buffer.from('{"a":1}'), false)).toEqual({
      format: 'string',
      value: '{"a":1}',
    });
  });
});

describe('keyId', () => {
  it('is the primitive, or the single field of a key struct', () => {
    expect(keyId({ format: 'string', value: 'S1' })).toBe('S1');
    expect(keyId({ format: 'json', value: { SHPMT_NO: 'S1' } })).toBe('S1');
    expect(keyId({ format: 'avro', value: { DOC_ID: 12 } })).toBe('12');
    expect(keyId({ format: 'json', value: { a: 1, b: 2 } })).toBe('{"a":1,"b":2}');
    expect(keyId({ format: 'null', value: null })).toBeNull();
  });
});

describe('parseFromTimestamp', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');

  it('reads ISO-8601 times, epoch milliseconds and durations back from now', () => {
    expect(parseFromTimestamp('2026-11-22T06:00:00Z', now)).toBe(Date.parse('2026-11-22T06:00:00Z'));
    expect(parseFromTimestamp('1795329428751', now)).toBe(1795329428751);
    expect(parseFromTimestamp('15m', now)).toBe(now - 15 * 60_000);
    expect(parseFromTimestamp('2h', now)).toBe(now - 2 * 3_600_000);
    expect(parseFromTimestamp('1d', now)).toBe(now - 86_400_000);
  });

  it('rejects anything else with exit code 2 and the accepted forms', () => {
    expect(() => parseFromTimestamp('last tuesday', now)).toThrow(
      expect.objectContaining({ exitCode: 2, message: '--from "last tuesday" is not a timestamp.' }),
    );
  });
});

describe('renderTailRecord', () => {
  const record: TailRecord = {
    topic: 'acme.dlq',
    partition: 1,
    offset: '42',
    timestamp: '2026-11-22T06:37:12.637Z',
    key: { SHPMT_NO: 'S1' },
    keyFormat: 'avro',
    headers: { 'erpstream.version': '7', '__connect.errors.exception.stacktrace': 'Error: boom\n    at a\n    at b' },
    value: { after: { STAT_CD: '77' } },
    valueFormat: 'avro',
    schemaId: 3,
  };

  it('prints a header line, the key, one header a line (first line of long ones) and the indented value', () => {
    expect(renderTailRecord(record, plainStyle)).toBe(
      [
        '── acme.dlq[1]@42  2026-11-22T06:37:12.637Z  avro (schema id 3)',
        'key:     {"SHPMT_NO":"S1"}',
        'headers: erpstream.version=7',
        '         __connect.errors.exception.stacktrace=Error: boom (… 2 more lines; -o json shows all)',
        'value:   {',
        '           "after": {',
        '             "STAT_CD": "77"',
        '           }',
        '         }',
        '',
      ].join('\n'),
    );
  });

  it('prints text keys and values as they are', () => {
    const text = renderTailRecord(
      { ...record, key: 'doc-2', keyFormat: 'string', headers: {}, value: 'plain', valueFormat: 'string' },
      plainStyle,
    );
    expect(text).toContain('key:     doc-2\nvalue:   plain\n');
  });
});

describe('erpstream tail -o yaml', () => {
  it('is refused (exit 2) before any broker is contacted, pointing at -o json, instead of printing JSON lines', async () => {
    const { runCliProcess } = await import('../cli-process.js');
    const run = await runCliProcess(['tail', 'some-topic', '-o', 'yaml', '--bootstrap-servers', '127.0.0.1:1']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('-o yaml is not supported');
    expect(run.stderr).toContain('hint: Use -o json');
  });
});

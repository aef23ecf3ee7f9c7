import { describe, expect, it } from 'vitest';
import { Decimal, Struct, isSinkRecord } from '../../../../runtime/api/index.js';
import { parseJsonExact, stringifyJsonExact } from '../../../../runtime/api/exact-json.js';
import type { RecordLineError } from '../../../../cli/transforms-run/record-lines.js';
import { decodeRecordLine, encodeRecordLine, isEnvelope } from '../../../../cli/transforms-run/record-lines.js';

const roundTrip = (line: string) =>
  stringifyJsonExact(encodeRecordLine(decodeRecordLine(parseJsonExact(line)), { decimalFormat: 'NUMERIC' }));

describe('record lines', () => {
  it('keeps schemaless big integers and decimals exact', () => {
    const rec = decodeRecordLine(
      parseJsonExact('{"topic":"t","value":{"id":9007199254740993,"amount":12345678901234.5678}}'),
    );
    const value = rec.value as Record<string, unknown>;
    expect(value.id).toBe(9007199254740993n);
    expect(value.amount).toEqual(Decimal.parse('12345678901234.5678'));
    expect(roundTrip('{"topic":"t","value":{"id":9007199254740993,"amount":12345678901234.5678}}')).toBe(
      '{"topic":"t","partition":null,"key":null,"value":{"id":9007199254740993,"amount":12345678901234.5678},"headers":{},"timestamp":null}',
    );
  });

  it('reads a JsonConverter envelope into a Struct and writes an envelope back', () => {
    const line =
      '{"topic":"t","partition":0,"key":"k1","value":{"schema":{"type":"struct","fields":[' +
      '{"type":"int64","optional":false,"field":"ID"},' +
      '{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"AMT"}' +
      '],"optional":false},"payload":{"ID":9223372036854775807,"AMT":10.50}},"headers":{"h":"x"},"timestamp":1700000000000}';
    const rec = decodeRecordLine(parseJsonExact(line));
    expect(rec.value).toBeInstanceOf(Struct);
    expect((rec.value as Struct).get('ID')).toBe(9223372036854775807n);
    expect((rec.value as Struct).get('AMT')).toEqual(new Decimal(1050n, 2));
    const out = JSON.parse(roundTrip(line)) as { value: { payload: unknown; schema: { type: string } } };
    expect(out.value.schema.type).toBe('struct');
    expect(roundTrip(line)).toContain('"payload":{"ID":9223372036854775807,"AMT":10.50}');
    expect(roundTrip(line)).toContain('"headers":{"h":"x"}');
  });

  it('detects an envelope only for an object with exactly schema and payload', () => {
    expect(isEnvelope(parseJsonExact('{"schema":{"type":"string"},"payload":"x"}'))).toBe(true);
    expect(isEnvelope(parseJsonExact('{"schema":"a","payload":"x","other":1}'))).toBe(false);
    expect(isEnvelope(parseJsonExact('{"payload":"x"}'))).toBe(false);
  });

  it('makes a SinkRecord when the line has an offset', () => {
    const rec = decodeRecordLine(parseJsonExact('{"topic":"t","partition":3,"offset":42,"value":null}'));
    expect(isSinkRecord(rec)).toBe(true);
    expect(rec).toMatchObject({ kafkaOffset: 42n, originalTopic: 't', originalKafkaPartition: 3 });
  });

  it('names the part that does not fit', () => {
    const bad = (line: string) => {
      try {
        decodeRecordLine(parseJsonExact(line));
      } catch (e) {
        return e as RecordLineError;
      }
      throw new Error('expected a RecordLineError');
    };
    expect(bad('{"value":1}').message).toContain('"topic"');
    const e = bad('{"topic":"t","value":{"schema":{"type":"int32"},"payload":"abc"}}');
    expect(e.stage).toBe('VALUE_CONVERTER');
    expect(e.message).toContain('value.payload does not match value.schema');
  });
});

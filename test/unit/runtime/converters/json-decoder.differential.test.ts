import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, type Schema, SchemaBuilder, Struct } from '../../../../runtime/api/index.js';
import { parseJsonValueAt } from '../../../../runtime/api/exact-json.js';
import { JsonConverter } from '../../../../runtime/converters/index.js';
import { smallUnscaledOfBase64 } from '../../../../runtime/converters/small-decimal.js';
import { twosComplementToBigint } from '../../../../runtime/api/logical.js';
import { schemaAndValueArb, structSpecArb } from './arbitraries.js';

/**
 * The compiled payload decoder (json-decoder.ts, taken by JsonConverter.deserialize once an envelope's schema is
 * known) against the reference reader (deserializeGeneric): the same Connect value, or the same error, for every
 * schema and payload, hostile payloads included (bad JSON, wrong types, escapes, duplicate and unknown members,
 * numbers at every limit).
 */

type Outcome = { schema: Schema | null; value: string } | { error: string };

/** A Connect value as text that tells apart what the model tells apart (-0, bigint, Decimal scale, bytes). */
function dump(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return String(v);
  if (v instanceof Decimal) return `D(${v.unscaled},${v.scale})`;
  if (Buffer.isBuffer(v)) return `B(${v.toString('hex')})`;
  if (v instanceof Date) return `T(${v.getTime()})`;
  if (Array.isArray(v)) return `[${v.map(dump).join(',')}]`;
  if (v instanceof Map) return `M{${[...v].map(([k, x]) => `${dump(k)}:${dump(x)}`).join(',')}}`;
  if (v instanceof Struct) {
    return `S{${(v.schema.fields ?? []).map((f) => `${f.name}:${dump(v.rawAt(f))}`).join(',')}}`;
  }
  return `?${Object.prototype.toString.call(v)}`;
}

function outcome(f: () => { schema: Schema | null; value: unknown }): Outcome {
  try {
    const r = f();
    return { schema: r.schema, value: dump(r.value) };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
}

const CONFIGS: Array<Record<string, string>> = [];
for (const format of ['BASE64', 'NUMERIC'])
  for (const replace of ['true', 'false'])
    CONFIGS.push({ 'schemas.enable': 'true', 'decimal.format': format, 'replace.null.with.default': replace });

function converter(props: Record<string, string>): JsonConverter {
  const c = new JsonConverter();
  c.configure(props, false);
  return c;
}

/**
 * Primes a converter with the envelope (so the next record of that schema takes the compiled decoder), then reads
 * each payload variant both ways.
 */
function expectSame(props: Record<string, string>, envelope: Buffer, payloads: readonly string[]): void {
  const c = converter(props);
  const text = envelope.toString('utf8');
  const head = text.slice(0, text.indexOf(',"payload":') + ',"payload":'.length);
  try {
    c.deserialize(envelope);
  } catch {
    return; // a schema the reference refuses: nothing is compiled for it
  }
  for (const p of payloads) {
    const bytes = Buffer.from(`${head}${p}}`, 'utf8');
    const reference = outcome(() => c.deserializeGeneric(bytes));
    // Twice: the first read compiles the decoder, the second uses it as compiled.
    expect(
      outcome(() => c.deserialize(bytes)),
      p,
    ).toEqual(reference);
    expect(
      outcome(() => c.deserialize(bytes)),
      p,
    ).toEqual(reference);
  }
}

/** Where each JSON value of `payload` starts and ends (every member value and array element, nested). */
function valueSpans(payload: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const walk = (pos: number): number => {
    let i = pos;
    while (' \n\r\t'.includes(payload[i] ?? '')) i++;
    const { end } = parseJsonValueAt(payload, i);
    spans.push([i, end]);
    const c = payload[i];
    if (c === '{' || c === '[') {
      let j = i + 1;
      while (' \n\r\t'.includes(payload[j] ?? '')) j++;
      if (payload[j] === '}' || payload[j] === ']') return end;
      for (;;) {
        if (c === '{') {
          j = parseJsonValueAt(payload, j).end; // the key
          while (payload[j] !== ':') j++;
          j++;
        }
        j = walk(j);
        while (' \n\r\t'.includes(payload[j] ?? '')) j++;
        if (payload[j] === ',') j++;
        else break;
      }
    }
    return end;
  };
  walk(0);
  return spans;
}

const HOSTILE_VALUES = [
  'null',
  'true',
  'false',
  '0',
  '-0',
  '01',
  '-',
  '1.',
  '1.5',
  '1e3',
  '1E-2',
  '127',
  '128',
  '-129',
  '32768',
  '2147483648',
  '-2147483649',
  '9007199254740991',
  '9007199254740993',
  '123456789012345',
  '1234567890123456',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775808',
  '-9223372036854775809',
  '99999999999999999999',
  '""',
  '"x"',
  '"AQI="',
  // base64 decimals at the edges of the compiled reader (4 and 8 characters, padding, signs, leftover bits)
  '"AA=="',
  '"gA=="',
  '"/w=="',
  '"AR=="',
  '"AQ"',
  '"AQID"',
  '"AQIDBA=="',
  '"AQIDBAU="',
  '"gAAAAAAA"',
  '"////////"',
  '"A==="',
  '"AA=A"',
  '"=AAA"',
  '"AQI-"',
  '"AQI_"',
  '"AQIDBAUG"',
  '"AQIDBAUGBw=="',
  '"not base64!"',
  '"a\\"b"',
  '"\\u0041\\n"',
  '"\\uZZZZ"',
  '"NaN"',
  '"Infinity"',
  '"2026-12-06T13:10:46Z"',
  '{}',
  '{"a":1}',
  '[]',
  '[1,"x",null]',
  '[[1,2]]',
  ' 1 ',
  '"unterminated',
  '{',
  'nul',
  'truex',
];

/** Hostile variants of a payload: values swapped, members duplicated and added, keys escaped, bytes cut. */
function variants(payload: string, rnd: () => number): string[] {
  const out = [payload, ` ${payload.replace(/,/g, ' , ').replace(/:/g, ' :\n')} `];
  const spans = valueSpans(payload);
  for (let k = 0; k < 12; k++) {
    const [s, e] = spans[Math.floor(rnd() * spans.length)]!;
    const v = HOSTILE_VALUES[Math.floor(rnd() * HOSTILE_VALUES.length)]!;
    out.push(payload.slice(0, s) + v + payload.slice(e));
  }
  const objects = [...payload.matchAll(/\{"([^"\\]*)":/g)];
  for (const m of objects.slice(0, 4)) {
    const at = m.index! + 1;
    const key = m[1]!;
    // The same member again before and after (the last one counts), an unknown one, an escaped key.
    out.push(`${payload.slice(0, at)}"${key}":null,${payload.slice(at)}`);
    const valueEnd = parseJsonValueAt(payload, m.index! + m[0].length).end;
    const again = HOSTILE_VALUES[Math.floor(rnd() * HOSTILE_VALUES.length)]!;
    out.push(`${payload.slice(0, valueEnd)},"${key}":${again}${payload.slice(valueEnd)}`);
    out.push(`${payload.slice(0, valueEnd)},"${key}":null${payload.slice(valueEnd)}`);
    out.push(`${payload.slice(0, at)}"zz_unknown":[1,{"q":null},"s"],${payload.slice(at)}`);
    if (key.length > 0) {
      const escaped = `\\u${key.charCodeAt(0).toString(16).padStart(4, '0')}${key.slice(1)}`;
      out.push(`${payload.slice(0, at)}"${escaped}"${payload.slice(at + key.length + 2)}`);
    }
    const end = payload.indexOf(',', at);
    if (end > 0) out.push(payload.slice(0, at) + payload.slice(end + 1)); // the first member dropped
  }
  for (let k = 0; k < 4; k++) {
    const cut = Math.floor(rnd() * payload.length);
    out.push(payload.slice(0, cut));
    out.push(payload.slice(0, cut) + String.fromCharCode(Math.floor(rnd() * 128)) + payload.slice(cut + 1));
  }
  return out;
}

function payloadOf(envelope: Buffer): string {
  const text = envelope.toString('utf8');
  return text.slice(text.indexOf(',"payload":') + ',"payload":'.length, -1);
}

describe('JsonConverter: compiled payload decoder vs the reference reader', () => {
  it('random struct schemas and values, with hostile payload variants', () => {
    fc.assert(
      fc.property(schemaAndValueArb(structSpecArb), fc.integer(), ({ schema, value }, seed) => {
        let state = seed >>> 0 || 1;
        const rnd = () => {
          state = (state * 1103515245 + 12345) >>> 0;
          return state / 2 ** 32;
        };
        for (const props of CONFIGS) {
          const envelope = converter(props).serializeGeneric(schema, value)!;
          expectSame(props, envelope, variants(payloadOf(envelope), rnd));
        }
      }),
      { numRuns: 80 },
    );
  }, 60_000);

  it('defaults, required fields and Object.prototype names: missing, null and present', () => {
    const schema = new SchemaBuilder('struct')
      .name('defaults')
      .field('snapshot', new SchemaBuilder('string').optional().defaultValue('false').build())
      .field('count', new SchemaBuilder('int32').defaultValue(7).build())
      .field('id', new SchemaBuilder('int64').build())
      .field('toString', new SchemaBuilder('string').optional().build())
      .field('constructor', new SchemaBuilder('int32').optional().build())
      .build();
    const value = new Struct(schema).put('snapshot', 'true').put('count', 1).put('id', 5n);
    const payloads = [
      '{"snapshot":"true","count":1,"id":5,"toString":null,"constructor":null}',
      '{"id":5}',
      '{"snapshot":null,"count":null,"id":5}',
      '{"snapshot":"x","count":1}',
      '{"id":null}',
      '{"id":5,"toString":"s","constructor":3}',
      '{"id":5,"__proto__":{"count":2}}',
      '{"id":5,"count":1,"count":"two"}',
      '{"id":5,"count":"two","count":2}',
    ];
    for (const props of CONFIGS) {
      const envelope = converter(props).serializeGeneric(schema, value)!;
      expectSame(props, envelope, payloads);
    }
  });

  it('a Debezium PostgreSQL snapshot event (the sink bench’s record), and its variants', () => {
    const row = new SchemaBuilder('struct')
      .name('srv.s.src.Value')
      .optional()
      .field('id', new SchemaBuilder('int64').build())
      .field(
        'amount',
        new SchemaBuilder('bytes')
          .name('org.apache.kafka.connect.data.Decimal')
          .parameter('scale', '4')
          .optional()
          .build(),
      )
      .field('created_at', new SchemaBuilder('int64').name('io.debezium.time.MicroTimestamp').optional().build())
      .field('updated_at', new SchemaBuilder('string').name('io.debezium.time.ZonedTimestamp').optional().build())
      .field('due', new SchemaBuilder('int32').name('io.debezium.time.Date').optional().build())
      .field('priority', new SchemaBuilder('int16').optional().build())
      .field('active', new SchemaBuilder('boolean').optional().build())
      .field('note', new SchemaBuilder('string').optional().build())
      .build();
    const envelopeSchema = new SchemaBuilder('struct')
      .name('srv.s.src.Envelope')
      .field('before', row)
      .field('after', row)
      .field('op', new SchemaBuilder('string').build())
      .field('ts_ns', new SchemaBuilder('int64').optional().build())
      .build();
    const after = new Struct(row)
      .put('id', 42n)
      .put('amount', new Decimal(12345n, 4))
      .put('created_at', 1796562646681507n)
      .put('updated_at', '2026-12-06T13:10:46.681507Z')
      .put('due', 20793)
      .put('priority', 2)
      .put('active', true)
      .put('note', 'c4ca4238 "quoted" é');
    const value = new Struct(envelopeSchema).put('after', after).put('op', 'r').put('ts_ns', 1796562669773514338n);
    let state = 7;
    const rnd = () => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state / 2 ** 32;
    };
    for (const props of CONFIGS) {
      const envelope = converter(props).serializeGeneric(envelopeSchema, value)!;
      for (let round = 0; round < 20; round++) expectSame(props, envelope, variants(payloadOf(envelope), rnd));
    }
  });
});

describe('JsonConverter: configure() again', () => {
  it('reads the next record with the new options, not with a decoder compiled for the old ones', () => {
    const schema = new SchemaBuilder('struct')
      .name('d')
      .field('s', new SchemaBuilder('string').optional().defaultValue('dflt').build())
      .build();
    const c = converter({ 'schemas.enable': 'true', 'replace.null.with.default': 'true' });
    const bytes = c.serializeGeneric(schema, new Struct(schema).put('s', 'x'))!;
    const nullPayload = Buffer.from(bytes.toString('utf8').replace('"payload":{"s":"x"}', '"payload":{"s":null}'));
    c.deserialize(bytes);
    expect((c.deserialize(nullPayload).value as Struct).get('s')).toBe('dflt');
    expect((c.deserialize(nullPayload).value as Struct).rawAt(schema.fields![0]!)).toBe('dflt');
    c.configure({ 'schemas.enable': 'true', 'replace.null.with.default': 'false' }, false);
    c.deserialize(bytes);
    expect((c.deserialize(nullPayload).value as Struct).rawAt(schema.fields![0]!)).toBeNull();
  });
});

describe('smallUnscaledOfBase64 (the compiled reader of small base64 decimals)', () => {
  /** The reference: the base64 check JsonConverter applies, then Buffer and BigInt. */
  const reference = (text: string): bigint | undefined =>
    /^[A-Za-z0-9+/]*={0,2}$/.test(text) ? twosComplementToBigint(Buffer.from(text, 'base64')) : undefined;

  it('reads every 1- to 6-byte two’s complement as Buffer and BigInt do', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 6 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64');
        expect(BigInt(smallUnscaledOfBase64(`"${text}"`, 1, text.length + 1)!)).toBe(reference(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('any 4 or 8 characters: the reference’s value, or undefined (never another value)', () => {
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ .é';
    fc.assert(
      fc.property(
        fc.constantFrom(4, 8),
        fc.array(fc.constantFrom(...chars), { minLength: 8, maxLength: 8 }),
        (n, cs) => {
          const text = cs.slice(0, n).join('');
          const got = smallUnscaledOfBase64(text, 0, n);
          if (got !== undefined) expect(BigInt(got), text).toBe(reference(text));
        },
      ),
      { numRuns: 5000 },
    );
    // Padding written the usual way is always read here, not handed to the reference.
    for (const t of ['AA==', 'gA==', '/w==', 'AR==', 'AQI=', 'AQID', 'AQIDBA==', 'AQIDBAU=', '////////'])
      expect(smallUnscaledOfBase64(t, 0, t.length), t).toBeDefined();
  });
});

import { AvroConverter } from '../../../../runtime/converters/index.js';

/** Helpers for the tests that feed converters hostile bytes. */

/** A converter whose registry answers every schema id with `schema` (an in-memory stand-in; the registry client is tested against Apicurio in test/integration/converters). */
export function readerFor(schema: object): AvroConverter {
  const c = new AvroConverter();
  c.configure({ 'schema.registry.url': 'http://127.0.0.1:1/apis/ccompat/v7' }, false);
  (c as unknown as { registry: { schemaById: (id: number) => Promise<string> } }).registry.schemaById = async () =>
    JSON.stringify(schema);
  return c;
}

/** Avro's zigzag varint of a (possibly > 2^31) count. */
export function varint(n: number): number[] {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

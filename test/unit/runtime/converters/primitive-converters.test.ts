import { describe, expect, it } from 'vitest';
import { DataError, Schemas } from '../../../../runtime/api/index.js';
import { builtinRegistry } from '../../../../bundle/builtin.js';

const PREFIX = 'org.apache.kafka.connect.converters.';
const TYPES = ['Boolean', 'Double', 'Float', 'Integer', 'Long', 'Short'];

describe("Connect's primitive converters", () => {
  it('all twelve are installed (converter and header converter each), by class name and simple name', () => {
    const r = builtinRegistry();
    for (const t of TYPES) {
      expect(r.find('converter', `${PREFIX}${t}Converter`), t).toBeDefined();
      expect(r.find('header_converter', `${PREFIX}${t}Converter`), t).toBeDefined();
      expect(r.find('converter', `${t}Converter`), t).toBeDefined();
    }
  });

  it('a schema of another type, a value out of range or of another kind is a DataError; null is null', async () => {
    const int = builtinRegistry().get('converter', `${PREFIX}IntegerConverter`).create();
    await int.configure({}, false);
    expect(await int.fromConnectData('t', [], Schemas.INT32, 7)).toEqual(Buffer.from([0, 0, 0, 7]));
    expect(await int.fromConnectData('t', [], null, null)).toBeNull();
    await expect(int.fromConnectData('t', [], Schemas.INT16, 7)).rejects.toThrow(DataError);
    await expect(int.fromConnectData('t', [], null, 2 ** 31)).rejects.toThrow('Failed to serialize to integer');
    await expect(int.fromConnectData('t', [], null, '7')).rejects.toThrow(DataError);
    await expect(int.toConnectData('t', [], Buffer.from([1, 2]))).rejects.toThrow(
      'Size of data received by IntegerDeserializer is not 4',
    );
    expect(await int.toConnectData('t', [], null)).toEqual({ schema: Schemas.OPTIONAL_INT32, value: null });
  });

  it('header converters read and write the same bytes', () => {
    const long = builtinRegistry().get('header_converter', `${PREFIX}LongConverter`).create();
    void long.configure({}); // synchronous for the primitive header converters
    const bytes = long.fromConnectHeader('t', 'h', Schemas.INT64, -2n)!;
    expect(bytes.toString('hex')).toBe('fffffffffffffffe');
    expect(long.toConnectHeader('t', 'h', bytes)).toEqual({ schema: Schemas.OPTIONAL_INT64, value: -2n });
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../../../../runtime/api/index.js';
import { AvroConverter, converterPlugins } from '../../../../../runtime/converters/index.js';

// Registry-backed behaviour is tested against the real registry in test/integration/converters.
describe('AvroConverter (no registry needed)', () => {
  const configured = () => {
    const c = new AvroConverter();
    c.configure({ 'schema.registry.url': 'http://127.0.0.1:1/apis/ccompat/v7' }, false);
    return c;
  };

  it('requires schema.registry.url and a known subject strategy', () => {
    expect(() => new AvroConverter().configure({}, false)).toThrow(ConfigError);
    expect(() => new AvroConverter().configure({}, false)).toThrow(
      'Missing required configuration "schema.registry.url"',
    );
    expect(() =>
      new AvroConverter().configure({ 'schema.registry.url': 'http://x', 'value.subject.name.strategy': 'Foo' }, false),
    ).toThrow(/value.subject.name.strategy/);
  });

  it('keeps tombstones: null in, null out, without asking the registry', async () => {
    expect(await configured().fromConnectData('t', [], null, null)).toBeNull();
    expect(await configured().toConnectData('t', [], null)).toEqual({ schema: null, value: null });
  });

  it('refuses schemaless values and bytes that are not in the Confluent wire format', async () => {
    await expect(configured().fromConnectData('t', [], null, { a: 1 })).rejects.toThrow(/needs a schema.*topic "t"/);
    await expect(configured().toConnectData('t', [], Buffer.from('{"a":1}'))).rejects.toThrow(
      'Unknown magic byte 0x7b in value of topic "t": expected 0x00 (Confluent wire format: magic byte, 4-byte schema id, Avro binary) in at least 5 bytes, got 7',
    );
    await expect(configured().toConnectData('t', [], Buffer.from([0, 0, 0]))).rejects.toBeInstanceOf(DataError);
  });

  it('hides basic.auth.user.info in its config spec', () => {
    const p = converterPlugins.find((x) => x.className === 'io.confluent.connect.avro.AvroConverter')!;
    expect(p.config.key('basic.auth.user.info')?.type).toBe('PASSWORD');
  });
});

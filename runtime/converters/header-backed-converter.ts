import type { Converter, HeaderConverter, Headers, RawConfig, Schema, SchemaAndValue } from '../api/index.js';

/**
 * A converter whose record conversion is its header conversion (Connect's ByteArray, String and primitive
 * converters): subclasses write the two header methods, the record methods (async and sync) follow.
 */
export abstract class HeaderBackedConverter implements Converter, HeaderConverter {
  abstract configure(props: RawConfig, isKey?: boolean): void;
  abstract fromConnectHeader(topic: string, headerKey: string, schema: Schema | null, value: unknown): Buffer | null;
  abstract toConnectHeader(topic: string, headerKey: string, bytes: Buffer | null): SchemaAndValue;

  async fromConnectData(
    topic: string,
    _headers: Headers,
    schema: Schema | null,
    value: unknown,
  ): Promise<Buffer | null> {
    return this.fromConnectHeader(topic, '', schema, value);
  }

  async toConnectData(topic: string, _headers: Headers, bytes: Buffer | null): Promise<SchemaAndValue> {
    return this.toConnectHeader(topic, '', bytes);
  }

  fromConnectDataSync(topic: string, _headers: Headers, schema: Schema | null, value: unknown): Buffer | null {
    return this.fromConnectHeader(topic, '', schema, value);
  }

  toConnectDataSync(topic: string, _headers: Headers, bytes: Buffer | null): SchemaAndValue {
    return this.toConnectHeader(topic, '', bytes);
  }
}

import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import { requireEnv, uniqueSuffix } from './env.js';

const baseUrl = requireEnv('SCHEMA_REGISTRY_URL').replace(/\/$/, '');
const registry = new SchemaRegistry({ host: baseUrl });
const run = uniqueSuffix();
const created: string[] = [];

const JSON_CT = 'application/vnd.schemaregistry.v1+json';

async function ccompat(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': JSON_CT, accept: JSON_CT },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const shipmentV1 = {
  type: 'record',
  name: 'Shipment',
  namespace: 'erpstream.smoke',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'shipmentNo', type: 'string' },
    { name: 'weightKg', type: ['null', 'double'], default: null },
  ],
};
// Backward compatible: a new optional field with a default.
const shipmentV2 = {
  ...shipmentV1,
  fields: [...shipmentV1.fields, { name: 'carrier', type: ['null', 'string'], default: null }],
};
// Not backward compatible: a new required field without a default (v3 readers cannot read v2 data).
const shipmentV3 = {
  ...shipmentV2,
  fields: [...shipmentV2.fields, { name: 'customerCode', type: 'string' }],
};

afterAll(async () => {
  for (const subject of created) {
    const soft = await ccompat('DELETE', `/subjects/${encodeURIComponent(subject)}`);
    const hard = await ccompat('DELETE', `/subjects/${encodeURIComponent(subject)}?permanent=true`);
    if (soft.status >= 300 || hard.status >= 300) {
      console.warn(`cleanup of subject ${subject}: DELETE ${soft.status}, DELETE permanent ${hard.status}`);
    }
  }
});

describe('schema registry (Apicurio, Confluent API) with @kafkajs/confluent-schema-registry', () => {
  it('registers an Avro schema, encodes in the Confluent wire format and decodes by id', async () => {
    const subject = `erpstream-smoke-${run}-shipments-value`;
    created.push(subject);
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(shipmentV1) },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    );
    expect(Number.isInteger(id)).toBe(true);

    // (avsc's default long type only takes integers up to 2^52: exact 64-bit longs need a custom long type.)
    const value = { id: 4503599627370496, shipmentNo: 'SHP-00042 — Zürich→東京', weightKg: 12.5 };
    const encoded = await registry.encode(id, value);
    // Confluent wire format: magic byte 0, schema id as 4-byte big-endian int, then Avro binary.
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    const avroType = avro.Type.forSchema(shipmentV1 as avro.Schema);
    expect(avroType.fromBuffer(encoded.subarray(5))).toEqual(value);
    expect(Buffer.compare(encoded.subarray(5), avroType.toBuffer(value))).toBe(0);

    // A fresh client (empty cache) must fetch the schema by id from the registry to decode.
    const fresh = new SchemaRegistry({ host: baseUrl });
    expect(await fresh.decode(encoded)).toEqual(value);
    const fetched = await ccompat('GET', `/schemas/ids/${id}`);
    expect(fetched.status).toBe(200);
    expect(JSON.parse((fetched.json as { schema: string }).schema)).toMatchObject({ name: 'Shipment' });

    // the subject lists its version
    const versions = await ccompat('GET', `/subjects/${encodeURIComponent(subject)}/versions`);
    expect(versions.json).toEqual([1]);
  });

  it('enforces BACKWARD compatibility set through the config endpoint', async () => {
    const subject = `erpstream-smoke-${run}-compat-value`;
    created.push(subject);
    await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(shipmentV1) }, { subject });

    const put = await ccompat('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: 'BACKWARD' });
    expect(put.status).toBe(200);
    // Confluent answers { compatibility }; Apicurio 3.0.9 answers { compatibilityLevel }: accept both.
    const putBody = put.json as { compatibility?: string; compatibilityLevel?: string };
    expect(putBody.compatibility ?? putBody.compatibilityLevel).toBe('BACKWARD');
    const get = await ccompat('GET', `/config/${encodeURIComponent(subject)}`);
    expect(get.json).toMatchObject({ compatibilityLevel: 'BACKWARD' });

    // compatible change: accepted, new id
    const v2 = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(shipmentV2) }, { subject });
    const decoded = await registry.decode(
      await registry.encode(v2.id, { id: 1, shipmentNo: 'A', weightKg: null, carrier: 'DHL' }),
    );
    expect(decoded).toEqual({ id: 1, shipmentNo: 'A', weightKg: null, carrier: 'DHL' });

    // incompatible change: the compatibility endpoint says no, and registration is refused
    const check = await ccompat('POST', `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`, {
      schema: JSON.stringify(shipmentV3),
    });
    expect(check.status).toBe(200);
    expect(check.json).toMatchObject({ is_compatible: false });

    const refused = await ccompat('POST', `/subjects/${encodeURIComponent(subject)}/versions`, {
      schema: JSON.stringify(shipmentV3),
    });
    expect(refused.status).toBe(409);
    await expect(
      registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(shipmentV3) }, { subject }),
    ).rejects.toThrow();

    const versions = await ccompat('GET', `/subjects/${encodeURIComponent(subject)}/versions`);
    expect(versions.json).toEqual([1, 2]);
  });
});

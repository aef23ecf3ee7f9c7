import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, SchemaBuilder, Schemas, Struct } from '../../../../runtime/api/index.js';
import { correlationKeyPlugin as plugin } from '../../../../transforms/erp/correlation-key.js';
import { KeyMemory } from '../../../../transforms/erp/record-fields.js';
import { configured, envelope, envelopeSchema, headerValue, record } from '../debezium/fixtures.js';

const phoneSchema = SchemaBuilder.struct()
  .optional()
  .field('id', Schemas.INT64)
  .field('person_id', Schemas.INT64)
  .field('number', Schemas.STRING)
  .build();
const personSchema = SchemaBuilder.struct().optional().field('id', Schemas.INT64).field('name', Schemas.STRING).build();
const phoneKeySchema = SchemaBuilder.struct().field('id', Schemas.INT64).build();

const phone = (id: bigint, personId: bigint) =>
  new Struct(phoneSchema).put('id', id).put('person_id', personId).put('number', '+49');
const person = (id: bigint) => new Struct(personSchema).put('id', id).put('name', 'Ada');
const phoneKey = (id: bigint) => new Struct(phoneKeySchema).put('id', id);

const multiTopic = {
  'topic.fields': 'erp.public.phone:person_id:personId,erp.public.person:id:personId',
};

describe('CorrelationKey', () => {
  it('keys a Phone and its Person by the same struct so they share a partition', async () => {
    const t = await configured(plugin, multiTopic);
    const p = t.apply(
      record({
        topic: 'erp.public.phone',
        keySchema: phoneKeySchema,
        key: phoneKey(9n),
        valueSchema: phoneSchema,
        value: phone(9n, 5n),
      }),
    )!;
    const q = t.apply(record({ topic: 'erp.public.person', valueSchema: personSchema, value: person(5n) }))!;
    expect((p.key as Struct).get('personId')).toBe(5n);
    expect(p.key).toEqual(q.key);
    expect(p.keySchema).toEqual(q.keySchema);
    expect(headerValue(p, 'erpstream.correlation.id')).toBe('5');
    expect(headerValue(q, 'erpstream.correlation.id')).toBe('5');
  });

  it('key.mode=field makes the key the bare value with its schema', async () => {
    const t = await configured(plugin, { fields: 'person_id', 'key.mode': 'field' });
    const out = t.apply(record({ topic: 'erp.public.phone', valueSchema: phoneSchema, value: phone(1n, 5n) }))!;
    expect(out.key).toBe(5n);
    expect(out.keySchema).toBe(Schemas.INT64);
  });

  it('reads the row of a Debezium envelope (before for deletes) and gives the tombstone the same key', async () => {
    const t = await configured(plugin, multiTopic);
    const envSchema = envelopeSchema(phoneSchema, 'erp.public.phone.Envelope');
    const del = t.apply(
      record({
        topic: 'erp.public.phone',
        keySchema: phoneKeySchema,
        key: phoneKey(9n),
        valueSchema: envSchema,
        value: envelope(envSchema, 'd', phone(9n, 5n), null, 'phone'),
      }),
    )!;
    const tomb = t.apply(record({ topic: 'erp.public.phone', keySchema: phoneKeySchema, key: phoneKey(9n) }))!;
    expect(tomb.value).toBeNull();
    expect(tomb.key).toEqual(del.key);
    expect(headerValue(tomb, 'erpstream.correlation.id')).toBe('5');
  });

  it('derives a tombstone key from an old key that holds the fields', async () => {
    const t = await configured(plugin, { fields: 'person_id', 'key.mode': 'field' });
    const tomb = t.apply(record({ topic: 'x', key: { id: 1, person_id: 12 } }))!;
    expect(tomb.key).toBe(12);
    const unknown = record({ topic: 'x', key: { id: 2 } });
    expect(t.apply(unknown)).toBe(unknown);
  });

  it('builds object keys schemaless and joins several fields in the header', async () => {
    const t = await configured(plugin, { fields: 'tenant,order_no:orderNo' });
    const out = t.apply(record({ value: { tenant: 'acme', order_no: 42, x: 1 } }))!;
    expect(out.key).toEqual({ tenant: 'acme', orderNo: 42 });
    expect(out.keySchema).toBeNull();
    expect(headerValue(out, 'erpstream.correlation.id')).toBe('acme:42');
  });

  it('passes topics without a spec and fails records missing the field, naming it', async () => {
    const t = await configured(plugin, multiTopic);
    const other = record({ topic: 'erp.public.other', value: { a: 1 } });
    expect(t.apply(other)).toBe(other);
    const bad = () => t.apply(record({ topic: 'erp.public.person', value: { name: 'x' } }));
    expect(bad).toThrow(DataError);
    expect(bad).toThrow(/field "id" is not in the record on erp\.public\.person/);
  });

  it('validates its config', async () => {
    await expect(configured(plugin, {})).rejects.toBeInstanceOf(ConfigError);
    await expect(configured(plugin, { fields: 'a,b', 'key.mode': 'field' })).rejects.toThrow(/one field/);
    await expect(configured(plugin, { 'topic.fields': 'just-a-topic' })).rejects.toThrow(/topic\.fields/);
  });
});

describe('KeyMemory', () => {
  it('keeps recent keys per topic and forgets old ones within its bound', () => {
    const m = new KeyMemory<number>(2);
    for (let i = 1; i <= 5; i++) m.remember('t', { id: i }, i);
    expect(m.recall('t', { id: 5 })).toBe(5);
    expect(m.recall('t', { id: 4 })).toBe(4);
    expect(m.recall('t', { id: 1 })).toBeUndefined();
    expect(m.recall('other', { id: 5 })).toBeUndefined();
    m.remember('s', new Struct(phoneKeySchema).put('id', 7n), 70);
    expect(m.recall('s', new Struct(phoneKeySchema).put('id', 7n))).toBe(70);
  });
});

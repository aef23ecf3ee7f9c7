import { describe, expect, it } from 'vitest';
import { ConfigError, SchemaBuilder, Schemas, Struct } from '../../../../runtime/api/index.js';
import { extractNewRecordStatePlugin as plugin } from '../../../../transforms/debezium/extract-new-record-state.js';
import { configured, envelope, envelopeSchema, headerValue, record } from './fixtures.js';

const rowSchema = SchemaBuilder.struct()
  .name('erp.public.shipment.Value')
  .optional()
  .field('id', Schemas.INT32)
  .field('status', Schemas.OPTIONAL_STRING)
  .field('dest', Schemas.OPTIONAL_STRING)
  .build();
const envSchema = envelopeSchema(rowSchema);

function row(id: number, status: string | null, dest: string | null = null): Struct {
  return new Struct(rowSchema).put('id', id).put('status', status).put('dest', dest);
}

const keySchema = SchemaBuilder.struct().field('id', Schemas.INT32).build();
const key = (id: number) => new Struct(keySchema).put('id', id);

function change(op: string, before: Struct | null, after: Struct | null) {
  return record({
    keySchema,
    key: key((after ?? before)!.get('id') as number),
    valueSchema: envSchema,
    value: envelope(envSchema, op, before, after),
  });
}
const created = () => change('c', null, row(1, 'NEW', 'orders.eu'));
const updated = () => change('u', row(1, 'NEW'), row(1, 'SENT', 'orders.eu'));
const deleted = () => change('d', row(1, 'SENT', 'orders.us'), null);
const tombstone = () => record({ keySchema, key: key(1) });

describe('ExtractNewRecordState with schema', () => {
  it('replaces the envelope by the after row and keeps key, topic and timestamp', async () => {
    const t = await configured(plugin);
    const out = t.apply(created())!;
    // As Debezium: the row schema's basics and fields, but required (`after` itself is optional).
    expect(out.valueSchema).toEqual({ ...rowSchema, optional: false });
    expect((out.value as Struct).get('status')).toBe('NEW');
    expect(out.key).toEqual(key(1));
    expect(out.topic).toBe('erp.public.shipment');
    expect(out.timestamp).toBe(1_700_000_000_900);
  });

  it('adds metadata fields with Debezium names and optional schemas, and reuses the derived schema', async () => {
    const t = await configured(plugin, { 'add.fields': 'op,table,lsn,source.ts_ms,ts_ms:EVENT_TS' });
    const a = t.apply(created())!;
    const b = t.apply(updated())!;
    const v = a.value as Struct;
    expect(v.get('__op')).toBe('c');
    expect(v.get('__table')).toBe('shipment');
    expect(v.get('__lsn')).toBe(100n);
    expect(v.get('__source_ts_ms')).toBe(1_700_000_000_000n);
    expect(v.get('__EVENT_TS')).toBe(1_700_000_000_500n);
    expect(a.valueSchema!.fields!.map((f) => f.name)).toEqual([
      'id',
      'status',
      'dest',
      '__op',
      '__table',
      '__lsn',
      '__source_ts_ms',
      '__EVENT_TS',
    ]);
    expect(a.valueSchema!.fields!.slice(3).every((f) => f.schema.optional)).toBe(true);
    expect(a.valueSchema!.name).toBe('erp.public.shipment.Value');
    expect(b.valueSchema).toBe(a.valueSchema);
    expect((b.value as Struct).get('__op')).toBe('u');
  });

  it('default mode (tombstone): a delete becomes a null value with the row schema; tombstones are removed', async () => {
    const t = await configured(plugin);
    const out = t.apply(deleted())!;
    expect(out.value).toBeNull();
    expect(out.valueSchema).toBe(rowSchema);
    expect(out.key).toEqual(key(1));
    expect(t.apply(tombstone())).toBeNull();
  });

  it('drop removes deletes and tombstones', async () => {
    const t = await configured(plugin, { 'delete.tombstone.handling.mode': 'drop' });
    expect(t.apply(deleted())).toBeNull();
    expect(t.apply(tombstone())).toBeNull();
    expect(t.apply(created())).not.toBeNull();
  });

  it('rewrite emits the before row with __deleted="true", marks other rows "false", removes tombstones', async () => {
    const t = await configured(plugin, { 'delete.tombstone.handling.mode': 'rewrite', 'add.fields': 'op' });
    const del = t.apply(deleted())!;
    const v = del.value as Struct;
    expect(v.get('status')).toBe('SENT');
    expect(v.get('__deleted')).toBe('true');
    expect(v.get('__op')).toBe('d');
    expect((t.apply(created())!.value as Struct).get('__deleted')).toBe('false');
    expect(t.apply(tombstone())).toBeNull();
  });

  it('rewrite-with-tombstone keeps tombstones; add.headers op marks them "d"', async () => {
    const t = await configured(plugin, {
      'delete.tombstone.handling.mode': 'rewrite-with-tombstone',
      'add.headers': 'op',
    });
    const tomb = t.apply(tombstone())!;
    expect(tomb.value).toBeNull();
    expect(headerValue(tomb, '__op')).toBe('d');
    expect((t.apply(deleted())!.value as Struct).get('__deleted')).toBe('true');
  });

  it('delete-to-tombstone turns the delete into a real tombstone and drops the original one', async () => {
    const t = await configured(plugin, { 'delete.tombstone.handling.mode': 'delete-to-tombstone' });
    const out = t.apply(deleted())!;
    expect(out.value).toBeNull();
    expect(out.valueSchema).toBeNull();
    expect(out.key).toEqual(key(1));
    expect(t.apply(tombstone())).toBeNull();
  });

  it('maps the deprecated drop.tombstones / delete.handling.mode pair', async () => {
    const keep = await configured(plugin, { 'drop.tombstones': 'false', 'delete.handling.mode': 'none' });
    expect(keep.apply(tombstone())).not.toBeNull();
    expect(keep.apply(deleted())!.value).toBeNull();

    const legacyDefault = await configured(plugin, { 'delete.handling.mode': 'drop' });
    expect(legacyDefault.apply(deleted())).toBeNull();
    expect(legacyDefault.apply(tombstone())).toBeNull();

    const rewrite = await configured(plugin, { 'delete.handling.mode': 'REWRITE', 'drop.tombstones': 'false' });
    expect((rewrite.apply(deleted())!.value as Struct).get('__deleted')).toBe('true');
    expect(rewrite.apply(tombstone())).not.toBeNull();

    const newWins = await configured(plugin, {
      'delete.tombstone.handling.mode': 'drop',
      'delete.handling.mode': 'rewrite',
    });
    expect(newWins.apply(deleted())).toBeNull();
  });

  it('adds headers with the field schema, prefix configurable', async () => {
    const t = await configured(plugin, { 'add.headers': 'op,source.ts_ms', 'add.headers.prefix': 'dbz.' });
    const out = t.apply(updated())!;
    expect(headerValue(out, 'dbz.op')).toBe('u');
    expect(headerValue(out, 'dbz.source_ts_ms')).toBe(1_700_000_000_000n);
    expect(out.headers.find((h) => h.key === 'dbz.source_ts_ms')!.schema!.type).toBe('int64');
  });

  it('routes by an after field, by the before field for rewritten deletes, and keeps the topic on null', async () => {
    const t = await configured(plugin, { 'route.by.field': 'dest', 'delete.tombstone.handling.mode': 'rewrite' });
    expect(t.apply(created())!.topic).toBe('orders.eu');
    expect(t.apply(deleted())!.topic).toBe('orders.us');
    expect(t.apply(change('c', null, row(2, 'NEW', null)))!.topic).toBe('erp.public.shipment');
  });

  it('drops fields named in a header, only optional ones unless told otherwise', async () => {
    const withHeader = (r: ReturnType<typeof created>) => ({
      ...r,
      headers: [{ key: 'drop', value: ['status', 'id'], schema: null }],
    });
    const compat = await configured(plugin, { 'drop.fields.header.name': 'drop' });
    const a = compat.apply(withHeader(created()))!;
    expect(a.valueSchema!.fields!.map((f) => f.name)).toEqual(['id', 'dest']);

    const all = await configured(plugin, {
      'drop.fields.header.name': 'drop',
      'drop.fields.keep.schema.compatible': 'false',
      'drop.fields.from.key': 'true',
    });
    const b = all.apply(withHeader(created()))!;
    expect(b.valueSchema!.fields!.map((f) => f.name)).toEqual(['dest']);
    expect((b.key as Struct).schema.fields).toEqual([]);
  });

  it('passes records that are not change events through unchanged, and drops truncate events', async () => {
    const t = await configured(plugin);
    const hbSchema = SchemaBuilder.struct()
      .name('io.debezium.connector.common.Heartbeat')
      .field('ts_ms', Schemas.INT64)
      .build();
    const heartbeat = record({
      topic: '__debezium-heartbeat.erp',
      valueSchema: hbSchema,
      value: new Struct(hbSchema).put('ts_ms', 1n),
    });
    expect(t.apply(heartbeat)).toBe(heartbeat);
    const truncate = record({ valueSchema: envSchema, value: envelope(envSchema, 't', null, null) });
    expect(t.apply(truncate)).toBeNull();
  });

  it('rejects an unknown mode and a malformed add.fields entry naming the key', async () => {
    await expect(configured(plugin, { 'delete.tombstone.handling.mode': 'keep' })).rejects.toThrow(
      /delete\.tombstone\.handling\.mode/,
    );
    await expect(configured(plugin, { 'add.fields': 'a:b:c' })).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('ExtractNewRecordState schemaless', () => {
  const env = (op: string, before: object | null, after: object | null) =>
    record({
      key: { id: 1 },
      value: { before, after, source: { table: 'shipment', lsn: 7, ts_ms: 1 }, op, ts_ms: 2 },
    });

  it('unwraps plain-object envelopes and adds fields (null when absent)', async () => {
    const t = await configured(plugin, { 'add.fields': 'op,table,source.xmin' });
    const out = t.apply(env('c', null, { id: 1, status: 'NEW' }))!;
    expect(out.valueSchema).toBeNull();
    expect(out.value).toEqual({ id: 1, status: 'NEW', __op: 'c', __table: 'shipment', __source_xmin: null });
  });

  it('rewrites deletes and adds only present headers', async () => {
    const t = await configured(plugin, {
      'delete.tombstone.handling.mode': 'rewrite',
      'add.headers': 'op,source.xmin',
    });
    const out = t.apply(env('d', { id: 1, status: 'SENT' }, null))!;
    expect(out.value).toEqual({ id: 1, status: 'SENT', __deleted: 'true' });
    expect(headerValue(out, '__op')).toBe('d');
    expect(out.headers.some((h) => h.key === '__source_xmin')).toBe(false);
  });

  it('passes plain objects without op/after/before through', async () => {
    const t = await configured(plugin);
    const r = record({ value: { id: 1, status: 'x' } });
    expect(t.apply(r)).toBe(r);
  });
});

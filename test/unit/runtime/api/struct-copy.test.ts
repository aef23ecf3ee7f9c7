import { describe, expect, it } from 'vitest';
import {
  DataError,
  Decimal,
  DecimalType,
  type Field,
  SchemaBuilder,
  SchemaError,
  Schemas,
  Struct,
  StructCopyPlan,
  TimestampType,
} from '../../../../runtime/api/index.js';

const tags = SchemaBuilder.array(Schemas.STRING).optional().build();
const source = SchemaBuilder.struct()
  .name('erp.Row')
  .field('ID', Schemas.INT64)
  .field('NAME', Schemas.STRING)
  .field('QTY', SchemaBuilder.int32().optional().defaultValue(7).build())
  .field('PRICE', DecimalType.schema(2))
  .field('TAGS', tags)
  .build();
const f = (name: string): Field => source.fields!.find((x) => x.name === name)!;

/** The target a renaming transform derives: same field schemas, new names, one field dropped. */
const target = SchemaBuilder.struct()
  .field('id', Schemas.INT64)
  .field('name', Schemas.STRING)
  .field('qty', f('QTY').schema)
  .field('tags', tags)
  .build();
const t = (name: string): Field => target.fields!.find((x) => x.name === name)!;
const plan = new StructCopyPlan(source, target, [
  [f('ID'), t('id')],
  [f('NAME'), t('name')],
  [f('QTY'), t('qty')],
  [f('TAGS'), t('tags')],
]);

const row = () =>
  new Struct(source)
    .put('ID', 1n)
    .put('NAME', 'Bolt')
    .put('QTY', 3)
    .put('PRICE', new Decimal(125n, 2))
    .put('TAGS', ['a']);

describe('Struct.copyFields', () => {
  it('copies the named fields by position into a complete, valid struct', () => {
    const out = new Struct(target).copyFields(row(), plan);
    expect(out.toString()).toBe('Struct{id=1,name=Bolt,qty=3,tags=a}');
    expect(() => out.validate()).not.toThrow();
    expect(out.equals(new Struct(target).put('id', 1n).put('name', 'Bolt').put('qty', 3).put('tags', ['a']))).toBe(
      true,
    );
  });

  it('copies an unset or null field as null, or as the source default when asked to', () => {
    const r = row().put('QTY', null);
    expect(new Struct(target).copyFields(r, plan).getWithoutDefault('qty')).toBeNull();
    expect(new Struct(target).copyFields(r, plan, true).getWithoutDefault('qty')).toBe(7);
  });

  it('still rejects a required field the source left unset, naming the target field', () => {
    const incomplete = new Struct(source).put('ID', 1n).put('PRICE', new Decimal(1n, 2));
    expect(() => new Struct(target).copyFields(incomplete, plan)).toThrow(
      new DataError('Invalid value: null used for required field: "name", schema type: string', 'name'),
    );
  });

  it('checks again a container whose elements may have changed since it was put', () => {
    const r = row();
    (r.getWithoutDefault('TAGS') as unknown[]).push(42);
    expect(() => new Struct(target).copyFields(r, plan)).toThrow(/field: "tags\[1\]"/);
  });

  it('checks values going into a field whose schema differs from the source field', () => {
    const narrower = SchemaBuilder.struct().field('qty', SchemaBuilder.int8().optional().build()).build();
    const narrow = new StructCopyPlan(source, narrower, [[f('QTY'), narrower.fields![0]!]]);
    expect(new Struct(narrower).copyFields(row(), narrow).getWithoutDefault('qty')).toBe(3);
    expect(() => new Struct(narrower).copyFields(row().put('QTY', 300), narrow)).toThrow(/field: "qty"/);
  });

  it('refuses structs of other schemas than the plan was made for', () => {
    const other = SchemaBuilder.struct().field('ID', Schemas.INT64).build();
    expect(() => new Struct(target).copyFields(new Struct(other).put('ID', 1n), plan)).toThrow(DataError);
    expect(() => new StructCopyPlan(source, target, [[target.fields![0]!, t('id')]])).toThrow(SchemaError);
    expect(() => new StructCopyPlan(Schemas.STRING, target, [])).toThrow(SchemaError);
  });
});

describe('Struct.adopt (a decoder handing over the values it built)', () => {
  const schema = SchemaBuilder.struct()
    .field('id', SchemaBuilder.int64().build())
    .field('name', SchemaBuilder.string().optional().build())
    .field('when', TimestampType.builder().optional().build())
    .build();

  it('keeps the values as put() would have set them, unset ones unset', () => {
    const s = Struct.adopt(schema, [5n, undefined, new Date(0)]);
    expect(s.get('id')).toBe(5n);
    expect(s.getWithoutDefault('name')).toBeNull();
    expect(s.equals(new Struct(schema).put('id', 5n).put('when', new Date(0)))).toBe(true);
  });

  it('checks every set value as put() does, naming the field', () => {
    expect(() => Struct.adopt(schema, [5, undefined, undefined])).toThrow(/id/);
    expect(() => Struct.adopt(schema, [5n, 7, undefined])).toThrow(/name/);
    expect(() => Struct.adopt(schema, [5n, undefined, 'yesterday'])).toThrow(/when/);
  });

  it('refuses an array that does not match the fields', () => {
    expect(() => Struct.adopt(schema, [5n, undefined])).toThrow(/fields/);
  });

  it('hands its array to that one struct only: a struct made after it (even after a refused adopt) starts unset', () => {
    const handed: unknown[] = [];
    expect(() => Struct.adopt(SchemaBuilder.string().build(), handed)).toThrow(/struct schema/);
    const fresh = new Struct(schema).put('id', 1n);
    expect(handed).toEqual([]);
    const adopted = Struct.adopt(schema, [2n, 'two', undefined]);
    const next = new Struct(schema);
    expect(next.getWithoutDefault('id')).toBeNull();
    expect(adopted.get('name')).toBe('two');
    expect(fresh.get('id')).toBe(1n);
  });
});

import { type Field, type Schema, SchemaBuilder, type Struct, field } from '../../runtime/api/index.js';

/**
 * Struct plumbing shared by the Debezium and ERP SMTs: schema copies, field-wise struct copies, and a
 * cache keyed by two schemas' identities (an output schema that depends on both the row and the envelope).
 */

/** A copy of a schema's basics (type, name, version, doc, parameters, children), made optional, no default. */
export function optionalCopy(schema: Schema): Schema {
  if (schema.optional && schema.defaultValue === undefined) return schema;
  const b =
    schema.type === 'array'
      ? SchemaBuilder.array(schema.valueSchema!)
      : schema.type === 'map'
        ? SchemaBuilder.map(schema.keySchema!, schema.valueSchema!)
        : new SchemaBuilder(schema.type);
  b.optional();
  if (schema.name !== undefined) b.name(schema.name);
  if (schema.version !== undefined) b.version(schema.version);
  if (schema.doc !== undefined) b.doc(schema.doc);
  if (schema.parameters !== undefined) b.parameters({ ...schema.parameters });
  for (const f of schema.fields ?? []) b.field(f.name, f.schema);
  return b.build();
}

/** The schema's builder with its basics (not its fields), as Connect's SchemaUtil.copySchemaBasics. */
export function structBuilderLike(schema: Schema): SchemaBuilder {
  const b = SchemaBuilder.struct().optional(schema.optional);
  if (schema.name !== undefined) b.name(schema.name);
  if (schema.version !== undefined) b.version(schema.version);
  if (schema.doc !== undefined) b.doc(schema.doc);
  if (schema.parameters !== undefined) b.parameters({ ...schema.parameters });
  return b;
}

/** Copies the raw values (no defaults applied) of every field of `source` that `target` also has. */
export function copyInto(source: Struct, target: Struct): Struct {
  const pairs = COPY_PLANS.getOrCompute(source.schema, target.schema, () =>
    (source.schema.fields ?? []).flatMap((f) => {
      const t = field(target.schema, f.name);
      return t ? [[f, t] as const] : [];
    }),
  );
  for (const [from, to] of pairs) target.putAt(to, source.rawAt(from));
  return target;
}

/** Caches a value by the identities of two schemas (the second may be null). */
export class PairSchemaCache<V> {
  private readonly byFirst = new WeakMap<Schema, Map<Schema | null, V>>();

  getOrCompute(a: Schema, b: Schema | null, compute: () => V): V {
    let inner = this.byFirst.get(a);
    if (!inner) {
      inner = new Map();
      this.byFirst.set(a, inner);
    }
    const hit = inner.get(b);
    if (hit !== undefined) return hit;
    const v = compute();
    inner.set(b, v);
    return v;
  }
}

/** Which source field feeds which target field, per (source schema, target schema) pair. */
const COPY_PLANS = new PairSchemaCache<ReadonlyArray<readonly [Field, Field]>>();

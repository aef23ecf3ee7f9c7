import { type Schema, Struct } from '../../runtime/api/index.js';

type MutableSchema = { -readonly [K in keyof Schema]: Schema[K] };

/**
 * A frozen copy of `schema` with `changes` applied whose Struct default (if any) is rebuilt, by `rebind`,
 * against the copy itself. SchemaBuilder cannot express this — it validates the default against a schema
 * that does not exist yet — while Connect's ConnectSchema simply does not validate defaults.
 */
export function copyWithStructDefault(
  schema: Schema,
  changes: Partial<Schema>,
  rebind: (oldDefault: Struct, self: Schema) => Struct,
): Schema {
  const updated: MutableSchema = { ...schema, ...changes };
  if (schema.defaultValue instanceof Struct) updated.defaultValue = rebind(schema.defaultValue, updated);
  return Object.freeze(updated);
}

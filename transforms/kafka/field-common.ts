import {
  ConfigError,
  type ConfigDef,
  type ConnectRecord,
  type Field,
  type ParsedConfig,
  type RawConfig,
  type Schema,
  SchemaBuilder,
  type SchemaType,
  Decimal,
  Struct,
  type Transformation,
} from '../../runtime/api/index.js';
import { type Side, isPlainObject } from '../support.js';

/** Shared pieces of Kafka's field-level SMTs: the common config key, Connect's field read and schema copy. */

export const REPLACE_NULL_WITH_DEFAULT = 'replace.null.with.default';

/** KIP-1040 (3.9): the same key, default and doc in every SMT that reads struct fields. */
export function defineReplaceNullWithDefault(def: ConfigDef): ConfigDef {
  return def.define({
    name: REPLACE_NULL_WITH_DEFAULT,
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation:
      'Whether to replace fields that have a default value and that are null to the default value. ' +
      'When set to true, the default value is used, otherwise null is used.',
  });
}

/**
 * Reads a struct field as Connect does: with `replaceNullWithDefault` a null (or unset) field yields the
 * field schema's default (Connect's `Struct.get`), otherwise the stored value (`getWithoutDefault`).
 * `Struct.get` in runtime/api only applies the default to unset fields, not to an explicit null, so we
 * read raw and apply the default here.
 */
export function readField(struct: Struct, field: Field, replaceNullWithDefault: boolean): unknown {
  const raw = struct.rawAt(field);
  if (raw === null && replaceNullWithDefault) return field.schema.defaultValue ?? null;
  return raw;
}

/** Connect's SchemaUtil.copySchemaBasics: name, version, doc and parameters; not optionality or default. */
export function copySchemaBasics(source: Schema, builder: SchemaBuilder): SchemaBuilder {
  builder.name(source.name).version(source.version).doc(source.doc);
  if (source.parameters !== undefined) builder.parameters({ ...source.parameters });
  return builder;
}

/** A builder of the same type as `source` (arrays keep their element schema) with the basics copied. */
export function copySchemaBasicsOf(source: Schema): SchemaBuilder {
  const builder = source.type === 'array' ? SchemaBuilder.array(source.valueSchema!) : SchemaBuilder.type(source.type);
  return copySchemaBasics(source, builder);
}

/** Java's String.split(sep): trailing empty strings are dropped, so "a:" has one part, ":b" two. */
export function javaSplit(text: string, separator: string): string[] {
  const parts = text.split(separator);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** How an error names a field: ` for field "x"` (empty when the whole key/value is meant). */
export function forField(name: string | undefined): string {
  return name === undefined ? '' : ` for field "${name}"`;
}

/**
 * A Transformation for one side of the record whose behaviour is built from its parsed config: the
 * spec is parsed once at configure time, and the record function closes over what it derived.
 */
/** Throws a ConfigError for the first key of `removed` that `props` still sets (PluginDescriptor.removedKeys). */
export function refuseRemovedKeys(props: RawConfig, removed: Readonly<Record<string, string>>): void {
  for (const [key, message] of Object.entries(removed)) {
    if (Object.hasOwn(props, key) && props[key] !== undefined && props[key] !== null) {
      throw ConfigError.invalid(key, props[key], message);
    }
  }
}

export function configuredTransform(
  config: ConfigDef,
  side: Side,
  build: (cfg: ParsedConfig, side: Side, props: RawConfig) => (record: ConnectRecord) => ConnectRecord | null,
): Transformation {
  let apply: ((record: ConnectRecord) => ConnectRecord | null) | undefined;
  return {
    configure(props: RawConfig) {
      apply = build(config.parse(props), side, props);
    },
    apply(record: ConnectRecord) {
      // Invariant: the runtime configures every transformation before it applies it.
      if (apply === undefined) throw new Error('Transformation used before configure()');
      return apply(record);
    },
    close() {
      apply = undefined;
    },
  };
}

/** A schemaless map's entry, or null; never an inherited property such as `constructor`. */
export function ownValue(map: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.hasOwn(map, key) ? (map[key] ?? null) : null;
}

/**
 * The Connect type of a value without schema (Java's ConnectSchema.schemaType), or undefined when Connect
 * has none (a Date, for instance). Schemaless, a bigint is a Long and a JS number a Double: that is how
 * our JsonConverter reads schemaless JSON (`1` → 1n, `1.0` → 1), as Connect's reads Long and Double.
 */
export function schemalessType(value: unknown): SchemaType | 'decimal' | undefined {
  switch (typeof value) {
    case 'number':
      return 'float64';
    case 'bigint':
      return 'int64';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    default:
      // Objects are told apart by their class below; functions, symbols and undefined have no Connect type.
      break;
  }
  if (value instanceof Uint8Array) return 'bytes';
  // Not a schemaless type in Java, but our exact JSON converter yields it for decimal numbers.
  if (value instanceof Decimal) return 'decimal';
  if (value instanceof Struct) return 'struct';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Map || isPlainObject(value)) return 'map';
  return undefined;
}

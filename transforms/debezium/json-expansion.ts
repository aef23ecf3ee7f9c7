import {
  DataError,
  Decimal,
  type ExactJsonValue,
  type Schema,
  SchemaBuilder,
  Schemas,
  Struct,
  field,
  parseJsonExact,
} from '../../runtime/api/index.js';

/**
 * Expands a JSON payload string into Connect data with an inferred schema, as Debezium's outbox router
 * does for `table.expand.json.payload`: objects become optional structs, integers int32 (or int64 when
 * they do not fit), other numbers float64; see inferSchema for names, nulls and arrays.
 *
 * JSON.parse would round integers beyond 2^53 before we could see them, so the API's exact parser is used:
 * int64 values stay exact bigints.
 */

type JsonNode = ExactJsonValue;

const INT32_MIN = -2147483648n;
const INT32_MAX = 2147483647n;

/** The exact parser gives integers as number/bigint and anything with a fraction or exponent as Decimal. */
function numberSchema(n: number | bigint | Decimal): Schema {
  if (n instanceof Decimal) return Schemas.OPTIONAL_FLOAT64;
  const v = BigInt(n);
  return v >= INT32_MIN && v <= INT32_MAX ? Schemas.OPTIONAL_INT32 : Schemas.OPTIONAL_INT64;
}

function isNumber(n: JsonNode): n is number | bigint | Decimal {
  return typeof n === 'number' || typeof n === 'bigint' || n instanceof Decimal;
}

function isObject(n: JsonNode): n is { [k: string]: JsonNode } {
  return n !== null && typeof n === 'object' && !Array.isArray(n) && !(n instanceof Decimal);
}

/**
 * The schema Debezium 3.2 infers: structs named by their path from the root (`payload`, `payload.a`),
 * optional; null members and empty arrays left out; array members must share one type.
 */
export function inferSchema(node: JsonNode, path: string): Schema | null {
  if (node === null) return null;
  if (typeof node === 'string') return Schemas.OPTIONAL_STRING;
  if (typeof node === 'boolean') return Schemas.OPTIONAL_BOOLEAN;
  if (isNumber(node)) return numberSchema(node);
  if (Array.isArray(node)) {
    const member = arrayMemberSchema(node, path);
    return member === null ? null : SchemaBuilder.array(member).optional().build();
  }
  return objectSchema([node], path, true);
}

function objectSchema(objects: Array<{ [k: string]: JsonNode }>, path: string, optional: boolean): Schema {
  const b = SchemaBuilder.struct().name(path).optional(optional);
  const seen = new Set<string>();
  for (const obj of objects) {
    for (const [k, v] of Object.entries(obj)) {
      if (seen.has(k)) continue;
      const s = inferSchema(v, `${path}.${k}`);
      if (s) {
        b.field(k, s);
        seen.add(k);
      }
    }
  }
  return b.build();
}

function arrayMemberSchema(arr: JsonNode[], path: string): Schema | null {
  const members = arr.filter((x) => x !== null);
  if (members.length === 0) return null;
  const first = members[0]!;
  if (isObject(first)) {
    if (!members.every(isObject)) throw new DataError(`Field ${path} is not a homogenous array`);
    // Debezium merges the members' fields into one (required) element struct named like the array.
    return objectSchema(members, path, false);
  }
  const schema = inferSchema(first, path);
  for (const m of members) {
    const s = inferSchema(m, path);
    if (s?.type !== schema?.type) throw new DataError(`Field ${path} is not a homogenous array`);
  }
  return schema;
}

/**
 * Struct fields an expansion may allocate: every struct of an array gets every field any member of the array has, so
 * 20,000 objects of one distinct key each (300 KB of JSON) made 400,000,000 of them (3.4 GB, the worker's memory).
 * At least a million, or 16 per byte of JSON; what Debezium's payloads hold is far below either.
 */
const MIN_EXPANDED_FIELDS = 1_000_000;
const EXPANDED_FIELDS_PER_BYTE = 16;

/** How many struct fields a conversion may still allocate. */
interface Budget {
  readonly limit: number;
  left: number;
}

/** Converts a parsed node to Connect data of the given (inferred) schema. */
export function toConnect(
  node: JsonNode,
  schema: Schema,
  budget: Budget = { limit: Infinity, left: Infinity },
): unknown {
  if (node === null) return null;
  switch (schema.type) {
    case 'string':
    case 'boolean':
      return node;
    case 'int32':
      return Number(node as number | bigint);
    case 'int64':
      return BigInt(node as number | bigint);
    case 'float64':
      return node instanceof Decimal ? node.toNumber() : Number(node as number | bigint);
    case 'array':
      return (node as JsonNode[]).map((x) => toConnect(x, schema.valueSchema!, budget));
    case 'struct': {
      budget.left -= schema.fields?.length ?? 0;
      if (budget.left < 0) {
        throw new DataError(
          `Expanding the JSON payload would make more than ${budget.limit} struct fields (${EXPANDED_FIELDS_PER_BYTE} per byte of the payload, at least ${MIN_EXPANDED_FIELDS}): at ${JSON.stringify(schema.name)}, each of its structs has all ${schema.fields?.length ?? 0} fields its members have between them. Give the array's objects the same keys at the source, or let errors.tolerance=all route the record to the dead letter queue`,
        );
      }
      const s = new Struct(schema);
      for (const [k, v] of Object.entries(node as Record<string, JsonNode>)) {
        const f = field(schema, k);
        if (f && v !== null) s.put(k, toConnect(v, f.schema, budget));
      }
      return s;
    }
    default:
      throw new DataError(`Unexpected inferred schema type ${schema.type}`);
  }
}

/** Converts a parsed node to schemaless data: objects, arrays, numbers (integers beyond 2^53 as bigint). */
export function toSchemaless(node: JsonNode): unknown {
  if (node instanceof Decimal) return node.toNumber();
  if (Array.isArray(node)) return node.map(toSchemaless);
  if (isObject(node)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = toSchemaless(v);
    return out;
  }
  return node;
}

/** Parses a JSON object/array payload; returns its inferred schema (root named `rootName`) and value. */
export function expandJson(text: string, rootName: string): { schema: Schema; value: unknown } {
  const node = parseJsonExact(text);
  const schema = inferSchema(node, rootName);
  if (schema === null || !(Array.isArray(node) || isObject(node))) {
    throw new DataError('Only JSON objects and arrays are expanded');
  }
  const limit = Math.max(MIN_EXPANDED_FIELDS, EXPANDED_FIELDS_PER_BYTE * text.length);
  const budget = { limit, left: limit };
  return { schema, value: toConnect(node, schema, budget) };
}

/** Parses a JSON object/array payload into schemaless data (plain objects and arrays). */
export function expandJsonSchemaless(text: string): unknown {
  const node = parseJsonExact(text);
  if (!(Array.isArray(node) || isObject(node))) throw new DataError('Only JSON objects and arrays are expanded');
  return toSchemaless(node);
}

import { DataError, type Schema, SchemaBuilder, Schemas, Struct, field } from '../../runtime/api/index.js';

/**
 * Expands a JSON payload string into Connect data with an inferred schema, as Debezium's outbox router
 * does for `table.expand.json.payload`: objects become optional structs, integers int32 (or int64 when
 * they do not fit), other numbers float64; see inferSchema for names, nulls and arrays.
 *
 * JSON.parse would round integers beyond 2^53 before we could see them, so numbers are parsed here from
 * their source text: int64 values stay exact bigints.
 */

/** A JSON number kept as its source text. */
class JsonNumber {
  constructor(readonly text: string) {}
  get isInteger(): boolean {
    return /^-?\d+$/.test(this.text);
  }
}

type JsonNode = null | boolean | string | JsonNumber | JsonNode[] | { [k: string]: JsonNode };

export function parseJsonExact(text: string): JsonNode {
  let i = 0;
  const fail = (what: string): never => {
    throw new DataError(`Invalid JSON at offset ${i}: ${what}`);
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const value = (): JsonNode => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, JsonNode> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a member name');
        const k = str();
        ws();
        if (text[i++] !== ':') fail('expected ":"');
        obj[k] = value();
        ws();
        const sep = text[i++];
        if (sep === '}') return obj;
        if (sep !== ',') fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        const sep = text[i++];
        if (sep === ']') return arr;
        if (sep !== ',') fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    for (const [lit, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return v;
      }
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail(`unexpected ${c === undefined ? 'end of input' : JSON.stringify(c)}`);
    i += m[0].length;
    return new JsonNumber(m[0]);
  };
  const str = (): string => {
    const start = i;
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('unterminated string');
      if (c === '\\') i += 2;
      else if (c === '"') break;
      else i++;
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const result = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return result;
}

const INT32_MIN = -2147483648n;
const INT32_MAX = 2147483647n;

function numberSchema(n: JsonNumber): Schema {
  if (!n.isInteger) return Schemas.OPTIONAL_FLOAT64;
  const v = BigInt(n.text);
  return v >= INT32_MIN && v <= INT32_MAX ? Schemas.OPTIONAL_INT32 : Schemas.OPTIONAL_INT64;
}

function isObject(n: JsonNode): n is { [k: string]: JsonNode } {
  return n !== null && typeof n === 'object' && !Array.isArray(n) && !(n instanceof JsonNumber);
}

/**
 * The schema Debezium 3.2 infers: structs named by their path from the root (`payload`, `payload.a`),
 * optional; null members and empty arrays left out; array members must share one type.
 */
export function inferSchema(node: JsonNode, path: string): Schema | null {
  if (node === null) return null;
  if (typeof node === 'string') return Schemas.OPTIONAL_STRING;
  if (typeof node === 'boolean') return Schemas.OPTIONAL_BOOLEAN;
  if (node instanceof JsonNumber) return numberSchema(node);
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

/** Converts a parsed node to Connect data of the given (inferred) schema. */
export function toConnect(node: JsonNode, schema: Schema): unknown {
  if (node === null) return null;
  switch (schema.type) {
    case 'string':
    case 'boolean':
      return node;
    case 'int32':
      return Number((node as JsonNumber).text);
    case 'int64':
      return BigInt((node as JsonNumber).text);
    case 'float64':
      return Number((node as JsonNumber).text);
    case 'array':
      return (node as JsonNode[]).map((x) => toConnect(x, schema.valueSchema!));
    case 'struct': {
      const s = new Struct(schema);
      for (const [k, v] of Object.entries(node as Record<string, JsonNode>)) {
        const f = field(schema, k);
        if (f && v !== null) s.put(k, toConnect(v, f.schema));
      }
      return s;
    }
    default:
      throw new DataError(`Unexpected inferred schema type ${schema.type}`);
  }
}

/** Converts a parsed node to schemaless data: objects, arrays, numbers (integers beyond 2^53 as bigint). */
export function toSchemaless(node: JsonNode): unknown {
  if (node instanceof JsonNumber) {
    if (!node.isInteger) return Number(node.text);
    const v = BigInt(node.text);
    return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  }
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
  return { schema, value: toConnect(node, schema) };
}

/** Parses a JSON object/array payload into schemaless data (plain objects and arrays). */
export function expandJsonSchemaless(text: string): unknown {
  const node = parseJsonExact(text);
  if (!(Array.isArray(node) || isObject(node))) throw new DataError('Only JSON objects and arrays are expanded');
  return toSchemaless(node);
}

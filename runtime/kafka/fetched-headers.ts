import type { RawHeaders } from './producer-port.js';

const NO_HEADERS: RawHeaders = Object.freeze([]) as unknown as RawHeaders;

function headerBytes(v: unknown): Buffer | null {
  return v === undefined || v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v));
}

function headersIn(h: Record<string, unknown> | undefined): RawHeaders {
  if (h === undefined) return NO_HEADERS;
  let out: RawHeaders | null = null;
  for (const k in h) {
    const v = h[k];
    out ??= [];
    if (Array.isArray(v)) for (const one of v) out.push([k, headerBytes(one)]);
    else out.push([k, headerBytes(v)]);
  }
  return out ?? NO_HEADERS;
}

/**
 * A fetched record's headers in their order on the wire, each repeated key as often as it came, as Connect hands
 * them to a task: the runtime's record batch decoder (kafkajs-record-batches.ts) lists them so; kafkajs's own object
 * groups a repeated key's values (and is the fallback). The list is shared: callers must not change it.
 */
export function fetchedHeaders(m: { headers?: unknown; headerList?: RawHeaders }): RawHeaders {
  const list = m.headerList;
  if (list === undefined) return headersIn(m.headers as Record<string, unknown> | undefined);
  return list.length === 0 ? NO_HEADERS : list;
}

/**
 * One value per header name, the last of a repeated one winning (as the sink's readers take them; a last value of
 * null leaves the name out), in an object without a prototype: a header named `__proto__` or `constructor` is a key
 * like any other.
 */
export function lastHeaderValues(headers: RawHeaders): Record<string, Buffer> {
  const out = Object.create(null) as Record<string, Buffer>;
  for (const [k, v] of headers) {
    if (v !== null) out[k] = v;
    else delete out[k];
  }
  return out;
}

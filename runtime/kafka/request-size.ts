/**
 * A partition's records travel as one record batch, which the broker refuses past its max.message.bytes
 * (1,048,588 by default). Every writer therefore sends large batches as consecutive requests under this size.
 */
export const MAX_REQUEST_BYTES = 900_000;

type Sized = { readonly length: number } | string | null | undefined;

const lengthOf = (v: Sized): number => (v === null || v === undefined ? 0 : v.length);

/** A record's size in a record batch, near enough: its bytes plus varint and attribute overhead. */
export function estimatedRecordBytes(
  key: Sized,
  value: Sized,
  headers: Iterable<readonly [string, Sized]> = [],
): number {
  let n = 24 + lengthOf(key) + lengthOf(value);
  for (const [k, v] of headers) n += 8 + k.length + lengthOf(v);
  return n;
}

/**
 * Splits `items` into consecutive runs [from, to), in order, each at most `maxBytes` by `sizeOf`; an item larger
 * than that goes alone (the broker then names the problem).
 */
export function sizedRuns<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  maxBytes: number = MAX_REQUEST_BYTES,
): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < items.length; i++) {
    const size = sizeOf(items[i]!);
    if (i > from && bytes + size > maxBytes) {
      runs.push([from, i]);
      from = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (from < items.length) runs.push([from, items.length]);
  return runs;
}

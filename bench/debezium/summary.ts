/** Rounds → min/median/max, and the readable forms of the figures. */

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(values: readonly number[]): Spread | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { min: v[0]!, median, max: v.at(-1)! };
}

/** "1.02–1.10 (median 1.05)" or "1.05" for one round. */
export function showSpread(s: Spread | null, digits = 2, unit = ''): string {
  if (!s) return 'n/a';
  const f = (x: number) => (digits === 0 ? Math.round(x).toLocaleString('en-US') : x.toFixed(digits));
  if (s.min === s.max) return `${f(s.min)}${unit}`;
  return `${f(s.min)}–${f(s.max)}${unit} (median ${f(s.median)})`;
}

export const roundTo = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
export const round2 = (x: number) => roundTo(x, 2);
export const round1 = (x: number) => Math.round(x * 10) / 10;

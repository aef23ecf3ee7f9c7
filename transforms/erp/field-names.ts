/**
 * Name rules for CRM/ERP column names: strip vendor prefixes (`Z_`, `ZZ_`), then change case.
 * Words are split at `_`, `-`, spaces and lower→upper changes, so `Z_CUST_CD`, `dtUpdt` and `ShipToID`
 * all split the way a reader would split them.
 */

export const NAME_CASES = ['none', 'camel', 'snake', 'lower', 'upper'] as const;
export type NameCase = (typeof NAME_CASES)[number];

export function splitWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter(Boolean);
}

export function applyCase(name: string, nameCase: NameCase): string {
  switch (nameCase) {
    case 'none':
      return name;
    case 'lower':
      return name.toLowerCase();
    case 'upper':
      return name.toUpperCase();
    case 'snake':
      return splitWords(name)
        .map((w) => w.toLowerCase())
        .join('_');
    case 'camel':
      return splitWords(name)
        .map((w, i) => (i === 0 ? w.toLowerCase() : w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()))
        .join('');
  }
}

/** Removes the first matching prefix (longest first, so ZZ_ beats Z_), unless nothing would remain. */
export function stripPrefix(name: string, prefixes: readonly string[]): string {
  const sorted = [...prefixes].sort((a, b) => b.length - a.length);
  for (const p of sorted) if (p !== '' && name.startsWith(p) && name.length > p.length) return name.slice(p.length);
  return name;
}

/**
 * Whether an Accept header admits the type a route produces (Jersey answers 406 otherwise). No header admits
 * everything. Quality values are not weighed: Connect 3.9 answers JSON even to `application/*;q=0`.
 */
export function accepts(header: string | undefined, produces: string): boolean {
  if (header === undefined || header.trim() === '') return true;
  const [type, subtype] = produces.split('/') as [string, string];
  for (const part of header.split(',')) {
    const range = part.split(';')[0]!.trim().toLowerCase();
    const [t, s] = range.split('/');
    if ((t === '*' || t === type) && (s === '*' || s === subtype)) return true;
  }
  return false;
}

/** The Allow list of a resource, ordered as Jersey lists it: HEAD (when GET exists), the methods, OPTIONS. */
export function allowedMethods(methods: readonly string[]): string[] {
  const own = [...new Set(methods)];
  return [...(own.includes('GET') ? ['HEAD'] : []), ...own.sort(jerseyOrder), 'OPTIONS'];
}

const ORDER = ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'];
function jerseyOrder(a: string, b: string): number {
  return ORDER.indexOf(a) - ORDER.indexOf(b);
}

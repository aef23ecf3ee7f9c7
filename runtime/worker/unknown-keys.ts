/**
 * Keys a connector config sets that neither the connector nor the framework knows. Kafka Connect ignores
 * them silently, so a typo (`tables.include.list`, `conection.url`) changes behaviour without a word; we keep
 * accepting them (Connect's clients rely on that) but name each one with the keys it was probably meant to be.
 */

export interface UnknownKey {
  key: string;
  /** Known keys close to it, best first (may be empty). */
  suggestions: string[];
}

/**
 * Keys passed through to something else, never declared by a connector: client overrides, converter and
 * topic-creation settings (Connect's own pass-through prefixes), and the ownership labels `erpstream
 * integrations` writes into connector configs (`erpstream.integration`, `erpstream.managed-by`, …).
 */
const PASS_THROUGH_PREFIXES = [
  'erpstream.',
  'producer.override.',
  'consumer.override.',
  'admin.override.',
  'key.converter.',
  'value.converter.',
  'header.converter.',
  'topic.creation.',
];

/** Keys whose value names sub-configs: `transforms=a` makes `transforms.a.*` keys (so do predicates, dependencies…). */
function namedSubConfigPrefixes(config: Readonly<Record<string, string | null>>, listKeys: Iterable<string>): string[] {
  const prefixes: string[] = [];
  for (const key of listKeys) {
    const value = config[key];
    if (typeof value !== 'string') continue;
    for (const name of value.split(',')) {
      const trimmed = name.trim();
      if (trimmed !== '') prefixes.push(`${key}.${trimmed}.`);
    }
  }
  return prefixes;
}

export interface KnownKeys {
  /** Every declared key (and alias) of the connector, the framework and the configured transforms/predicates. */
  names: Iterable<string>;
  /** Declared keys whose list value names sub-configs (`dependencies`, `transforms`, `predicates`). */
  listKeys?: Iterable<string>;
  /** Further prefixes whose keys belong to someone else (a sink's `delivery.` chain). */
  prefixes?: Iterable<string>;
}

export function findUnknownKeys(config: Readonly<Record<string, string | null>>, known: KnownKeys): UnknownKey[] {
  const names = new Set(known.names);
  const prefixes = [
    ...PASS_THROUGH_PREFIXES,
    ...(known.prefixes ?? []),
    ...namedSubConfigPrefixes(config, new Set([...(known.listKeys ?? []), 'transforms', 'predicates'])),
  ];
  const out: UnknownKey[] = [];
  for (const key of Object.keys(config)) {
    if (names.has(key) || prefixes.some((p) => key.startsWith(p))) continue;
    out.push({ key, suggestions: didYouMean(key, names) });
  }
  return out;
}

/** The candidates within a small edit distance of `word` (a typo, a missing or doubled letter), best first. */
export function didYouMean(word: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = Math.max(2, Math.floor(word.length / 5));
  const scored: Array<[string, number]> = [];
  for (const c of candidates) {
    if (c === word || Math.abs(c.length - word.length) > limit) continue;
    const d = editDistance(word.toLowerCase(), c.toLowerCase(), limit);
    if (d <= limit) scored.push([c, d]);
  }
  scored.sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
  // Only the closest: "tables.include.list" means table.include.list, not table.exclude.list as well.
  const best = scored[0]?.[1];
  return scored
    .filter(([, d]) => d === best)
    .slice(0, max)
    .map(([c]) => c);
}

/** "did you mean "x"?" / "did you mean "x" or "y"?" ("" when there is nothing close). */
export function didYouMeanText(suggestions: readonly string[]): string {
  if (suggestions.length === 0) return '';
  const quoted = suggestions.map((s) => `"${s}"`);
  const list = quoted.length === 1 ? quoted[0]! : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)!}`;
  return `did you mean ${list}?`;
}

/** The one-line warning users see for an unknown key, wherever it is reported. */
export function unknownKeyMessage(u: UnknownKey, owner: string): string {
  const hint = didYouMeanText(u.suggestions);
  return `unknown key "${u.key}": not a configuration of ${owner} or of the framework, so it is ignored${hint ? `; ${hint}` : ''}`;
}

/** Optimal string alignment distance (a transposition counts as one edit), cut off above `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  let prevPrev: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prevPrev[j - 2]! + 1);
      row.push(d);
      if (d < best) best = d;
    }
    if (best > limit) return limit + 1;
    prevPrev = prev;
    prev = row;
  }
  return prev[b.length]!;
}

import { ConfigError } from '../../../runtime/api/index.js';
import type { SqlTemplate } from '../sql/named-params.js';

/** `<column or (tuple)> IN (` right before `:ids`: the one predicate that narrows the lookup to a batch of ids. */
const IDS_PREDICATE =
  /((?:(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*)\.)*(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*)|\([^()]*\))\s+IN\s*\(\s*$/i;

/**
 * The lookup query for every id at once, for reconcile: `lookup.query` with its `<key> IN (:ids)` predicate replaced
 * by `1 = 1`, so the joins and conditions that decide what the customer gets stay exactly the sink's. A query that
 * uses `:ids` any other way cannot be widened safely and is refused, naming the key.
 */
export function allRowsQuery(template: SqlTemplate): string {
  const at = template.names.indexOf('ids');
  const before = template.pieces[at] ?? '';
  const after = template.pieces[at + 1] ?? '';
  const m = IDS_PREDICATE.exec(before);
  if (template.names.length !== 1 || at < 0 || !m || !/^\s*\)/.test(after)) {
    throw new ConfigError(
      'Reconcile needs lookup.query to use :ids once, as `<key column> IN (:ids)` (or `(<key columns>) IN (:ids)`), ' +
        'so it can read every row of the query without the id filter',
      'lookup.query',
    );
  }
  return `${before.slice(0, m.index)}1 = 1${after.replace(/^\s*\)/, '')}`;
}

import type { Style } from './output.js';

/**
 * Config diffs shown before anything is written (`connectors apply`, `connectors patch`). Values are
 * compared as Connect stores them (strings); what is displayed goes through `display`, so secrets show as
 * `[hidden]` while config-provider references stay visible.
 */

export type ChangeKind = 'added' | 'changed' | 'removed';

export interface ConfigChange {
  key: string;
  kind: ChangeKind;
  /** Display values (already masked). */
  before?: string;
  after?: string;
}

export type DisplayValue = (key: string, value: string) => string;

/** Key-by-key differences from `before` (absent: a new connector) to `after`, sorted by key. */
export function diffConfigs(
  before: Readonly<Record<string, string>> | undefined,
  after: Readonly<Record<string, string>>,
  display: DisplayValue = (_k, v) => v,
): ConfigChange[] {
  const old = before ?? {};
  const keys = [...new Set([...Object.keys(old), ...Object.keys(after)])].sort();
  const changes: ConfigChange[] = [];
  for (const key of keys) {
    const a = old[key];
    const b = after[key];
    if (a === undefined && b !== undefined) changes.push({ key, kind: 'added', after: display(key, b) });
    else if (a !== undefined && b === undefined) changes.push({ key, kind: 'removed', before: display(key, a) });
    else if (a !== b) {
      changes.push({ key, kind: 'changed', before: display(key, a!), after: display(key, b!) });
    }
  }
  return changes;
}

export function summarizeChanges(changes: readonly ConfigChange[]): string {
  const count = (kind: ChangeKind) => changes.filter((c) => c.kind === kind).length;
  return `${count('added')} added, ${count('changed')} changed, ${count('removed')} removed`;
}

/** `+ key: value`, `~ key: old → new`, `- key: value`, indented under a heading line. */
export function renderChanges(changes: readonly ConfigChange[], style: Style, indent = '  '): string {
  return changes
    .map((c) => {
      switch (c.kind) {
        case 'added':
          return `${indent}${style.bold('+')} ${c.key}: ${c.after}`;
        case 'removed':
          return style.red(`${indent}- ${c.key}: ${c.before}`);
        case 'changed':
          return style.yellow(`${indent}~ ${c.key}: ${c.before} → ${c.after}`);
      }
    })
    .map((line) => `${line}\n`)
    .join('');
}

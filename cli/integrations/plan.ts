import { type ConfigChange, diffConfigs, renderChanges } from '../diff.js';
import { displayValue, secretTest } from '../connect/secrets.js';
import type { ConnectorConfig } from '../connect/types.js';
import type { Style } from '../output.js';
import type { Expansion, GeneratedConnector } from '../../integrations/expand.js';
import { LABEL_INTEGRATION, LABEL_MANAGED_BY, LABEL_SOURCE, MANAGED_BY } from '../../integrations/fields.js';
import { integrationRegistry } from '../../integrations/validate.js';

/**
 * The plan: what applying the integration files would change on the cluster. Connectors are owned through
 * labels in their config (`erpstream.managed-by`, `erpstream.integration`, `erpstream.source`), so the
 * cluster itself says which connectors belong to which integration:
 *
 * - a generated connector that does not exist → create; one whose config differs → update (key-level diff);
 * - a labelled sink of an integration declared in these files that is no longer generated → delete;
 * - a labelled sink of an integration *not* in these files is left alone (other teams' files), unless
 *   `prune` says these files are the whole truth;
 * - a labelled source that no remaining sink uses → delete.
 */

export type PlanAction = 'create' | 'update' | 'delete' | 'unchanged';

export interface PlanItem {
  action: PlanAction;
  name: string;
  role: 'source' | 'sink';
  /** The integrations it serves (a shared source: several). */
  integrations: string[];
  /** Create/update: the config to write. */
  config?: ConnectorConfig;
  /** Masked for display: literal secrets `[hidden]`, `${env:…}` placeholders as written. */
  changes: ConfigChange[];
  reason: string;
}

export interface Plan {
  items: PlanItem[];
  /** Managed connectors of integrations not in these files (left alone without --prune). */
  untouched: string[];
  /** Generated connectors that belong on another Connect cluster (a Debezium source's `source.cluster`). */
  elsewhere?: Array<{ name: string; cluster: string }>;
}

/**
 * Secrets are the PASSWORD keys of the connector and of each transform in its chains (TranslateCodes'
 * `tables.connection.url` may carry a password), known offline, plus anything whose name says so.
 */
export function secretTestFor(config: Readonly<Record<string, string>>): (key: string) => boolean {
  const registry = integrationRegistry();
  const cls = config['connector.class'] ?? '';
  const plugin = registry.find('source', cls) ?? registry.find('sink', cls);
  const passwordsOf = (keys: ReadonlyArray<{ name: string; type: string }> | undefined, prefix = '') =>
    (keys ?? []).filter((k) => k.type === 'PASSWORD').map((k) => prefix + k.name);
  const passwords = new Set(passwordsOf(plugin?.config.configKeys()));
  // The connector's chain and a lookup sink's delivery chain (delivery.transforms) alike.
  for (const root of ['transforms', 'delivery.transforms']) {
    for (const alias of (config[root] ?? '')
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean)) {
      const t = registry.find('transformation', config[`${root}.${alias}.type`] ?? '');
      for (const k of passwordsOf(t?.config.configKeys(), `${root}.${alias}.`)) passwords.add(k);
    }
  }
  return secretTest(passwords);
}

function isManaged(config: Readonly<Record<string, string>> | undefined): boolean {
  return config?.[LABEL_MANAGED_BY] === MANAGED_BY;
}

/** Computes the plan from the generated connectors and the cluster's connectors (name → config). */
export function computePlan(
  expansion: Expansion,
  cluster: ReadonlyMap<string, ConnectorConfig>,
  options: { prune?: boolean; cluster?: string } = {},
): Plan {
  const items: PlanItem[] = [];
  const generated = new Map(expansion.connectors.map((c) => [c.name, c]));
  const declared = new Set(expansion.integrations);
  // Only the connectors that belong on this cluster (`cluster` unset: the command's own).
  const here = expansion.connectors.filter((c) => (c.cluster ?? '') === (options.cluster ?? ''));
  const elsewhere = expansion.connectors
    .filter((c) => !here.includes(c))
    .map((c) => ({ name: c.name, cluster: c.cluster ?? '' }));

  for (const c of here) {
    const current = cluster.get(c.name);
    if (current !== undefined && !isManaged(current)) {
      // Taking over a connector someone created by hand is allowed, but said out loud.
      items.push(item(c, current, 'exists but is not managed by integration files yet; it will be taken over'));
      continue;
    }
    items.push(item(c, current, ''));
  }

  const untouched: string[] = [];
  const sinksAfter = new Set<string>(); // source names still used after the plan
  for (const c of expansion.connectors) if (c.role === 'sink' && c.sourceName) sinksAfter.add(c.sourceName);
  const deletions: PlanItem[] = [];
  for (const [name, config] of [...cluster].sort(([a], [b]) => a.localeCompare(b))) {
    if (generated.has(name) || !isManaged(config)) continue;
    const integration = config[LABEL_INTEGRATION];
    if (integration === undefined) continue; // sources: decided below
    if (declared.has(integration) || options.prune) {
      deletions.push({
        action: 'delete',
        name,
        role: 'sink',
        integrations: [integration],
        changes: [],
        reason: declared.has(integration)
          ? `integration ${integration} no longer declares it`
          : `integration ${integration} is not declared in these files (--prune)`,
      });
    } else {
      untouched.push(name);
      if (config[LABEL_SOURCE]) sinksAfter.add(config[LABEL_SOURCE]);
    }
  }
  for (const [name, config] of [...cluster].sort(([a], [b]) => a.localeCompare(b))) {
    if (generated.has(name) || !isManaged(config) || config[LABEL_INTEGRATION] !== undefined) continue;
    const source = config[LABEL_SOURCE];
    if (source === undefined) continue;
    if (sinksAfter.has(source)) {
      untouched.push(name);
      continue;
    }
    deletions.push({
      action: 'delete',
      name,
      role: 'source',
      integrations: [],
      changes: [],
      reason: `no integration uses source ${source} any more`,
    });
  }
  // Deletes last: sinks go before the sources they read, and new connectors exist before old ones go.
  items.push(...deletions.sort((a, b) => (a.role === b.role ? 0 : a.role === 'sink' ? -1 : 1)));
  return elsewhere.length > 0 ? { items, untouched, elsewhere } : { items, untouched };
}

function item(c: GeneratedConnector, current: ConnectorConfig | undefined, note: string): PlanItem {
  // Keys are masked by what the *new* config declares; the cluster's old values are masked the same way.
  const isSecret = secretTestFor(c.config);
  const changes = diffConfigs(current, c.config, (k, v) => displayValue(k, v, isSecret));
  const action: PlanAction = current === undefined ? 'create' : changes.length === 0 ? 'unchanged' : 'update';
  const reason =
    note ||
    (action === 'create'
      ? `declared in ${c.file}`
      : action === 'update'
        ? `${changes.length} ${changes.length === 1 ? 'key differs' : 'keys differ'}`
        : 'up to date');
  return { action, name: c.name, role: c.role, integrations: [...c.integrations], config: c.config, changes, reason };
}

export function hasChanges(plan: Plan): boolean {
  return plan.items.some((i) => i.action !== 'unchanged');
}

export function planSummary(plan: Plan): string {
  const n = (a: PlanAction) => plan.items.filter((i) => i.action === a).length;
  if (!hasChanges(plan)) return `No changes: ${n('unchanged')} connector${n('unchanged') === 1 ? '' : 's'} up to date.`;
  return `Plan: ${n('create')} to create, ${n('update')} to update, ${n('delete')} to delete, ${n('unchanged')} unchanged.`;
}

const SIGN: Record<PlanAction, string> = { create: '+', update: '~', delete: '-', unchanged: '=' };

/** The human plan: one line per connector, with the key-level diff under creates and updates. */
export function renderPlan(plan: Plan, style: Style, options: { showCreateKeys?: boolean } = {}): string {
  const lines: string[] = [];
  for (const i of plan.items) {
    const who = i.integrations.length > 0 ? ` [${i.integrations.join(', ')}]` : '';
    const head = `${SIGN[i.action]} ${i.action} ${i.role} ${style.bold(i.name)}${who}: ${i.reason}`;
    lines.push(i.action === 'delete' ? style.red(head) : i.action === 'update' ? style.yellow(head) : head);
    if (i.action === 'update' || (i.action === 'create' && options.showCreateKeys !== false)) {
      lines.push(renderChanges(i.changes, style, '    ').trimEnd());
    }
  }
  if (plan.untouched.length > 0) {
    lines.push(style.dim(`  (left alone, owned by integrations not in these files: ${plan.untouched.join(', ')})`));
  }
  for (const e of plan.elsewhere ?? []) {
    lines.push(style.dim(`  (${e.name} belongs on cluster ${e.cluster || '(this one)'}: planned there, not here)`));
  }
  lines.push('', planSummary(plan));
  return lines.join('\n') + '\n';
}

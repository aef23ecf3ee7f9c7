import { taskSummary } from '../connect/task-summary.js';
import type { ConnectClient } from '../connect/client.js';
import { ConnectApiError } from '../connect/errors.js';
import type { ConnectorConfig, ExpandedConnector } from '../connect/types.js';
import { LABEL_INTEGRATION, LABEL_MANAGED_BY, LABEL_SOURCE, MANAGED_BY } from '../../integrations/fields.js';
import type { Plan, PlanItem } from './plan.js';

/** What `apply`, `delete` and `list` do on a Connect cluster, through the shared Connect REST client. */

export async function clusterConnectors(client: ConnectClient): Promise<Record<string, ExpandedConnector>> {
  return client.listConnectorsExpanded();
}

export function clusterConfigs(expanded: Readonly<Record<string, ExpandedConnector>>): Map<string, ConnectorConfig> {
  const out = new Map<string, ConnectorConfig>();
  for (const [name, e] of Object.entries(expanded)) if (e.info) out.set(name, e.info.config);
  return out;
}

export interface ApplyResult {
  name: string;
  action: PlanItem['action'];
  written: boolean;
}

/**
 * Carries out the plan in order (sources before sinks, deletes last); stops at the first failure so the
 * error names the connector. Upserts with PUT …/config, so a retry after a partial apply converges.
 */
export async function executePlan(
  client: ConnectClient,
  plan: Plan,
  onDone: (r: ApplyResult) => void = () => undefined,
): Promise<ApplyResult[]> {
  const results: ApplyResult[] = [];
  for (const item of plan.items) {
    if (item.action === 'unchanged') {
      results.push({ name: item.name, action: item.action, written: false });
      continue;
    }
    if (item.action === 'delete') {
      try {
        await client.deleteConnector(item.name);
      } catch (error) {
        // Connect lists a connector for a moment after its deletion: already gone is what we wanted.
        if (!(error instanceof ConnectApiError && error.status === 404)) throw error;
      }
    } else await client.putConnectorConfig(item.name, item.config!);
    const r = { name: item.name, action: item.action, written: true };
    results.push(r);
    onDone(r);
  }
  return results;
}

/** `integrations delete <name>`: its sinks, and each source it used that no other integration uses. */
export function planDeleteIntegration(name: string, cluster: ReadonlyMap<string, ConnectorConfig>): Plan {
  const managed = [...cluster]
    .filter(([, c]) => c[LABEL_MANAGED_BY] === MANAGED_BY)
    .sort(([a], [b]) => a.localeCompare(b));
  const sinks = managed.filter(([, c]) => c[LABEL_INTEGRATION] === name);
  const items: PlanItem[] = sinks.map(([n, c]) => ({
    action: 'delete',
    name: n,
    role: 'sink',
    integrations: [name],
    changes: [],
    reason: `belongs to integration ${name}${c[LABEL_SOURCE] ? ` (source ${c[LABEL_SOURCE]})` : ''}`,
  }));
  const untouched: string[] = [];
  const usedSources = new Set(sinks.map(([, c]) => c[LABEL_SOURCE]).filter((s): s is string => !!s));
  for (const source of usedSources) {
    const others = managed
      .filter(
        ([, c]) => c[LABEL_SOURCE] === source && c[LABEL_INTEGRATION] !== undefined && c[LABEL_INTEGRATION] !== name,
      )
      .map(([, c]) => c[LABEL_INTEGRATION]!);
    for (const [n, c] of managed) {
      if (c[LABEL_INTEGRATION] !== undefined || c[LABEL_SOURCE] !== source) continue;
      if (others.length > 0) untouched.push(`${n} (still used by ${[...new Set(others)].join(', ')})`);
      else
        items.push({
          action: 'delete',
          name: n,
          role: 'source',
          integrations: [],
          changes: [],
          reason: `only ${name} used source ${source}`,
        });
    }
  }
  return { items, untouched };
}

export interface IntegrationRow {
  integration: string;
  source: string;
  connectors: string[];
  states: string;
  /** All tasks of its connectors: a RUNNING connector may have FAILED tasks ("1/4 running (3 FAILED)"). */
  tasks: string;
}

/** `integrations list`: the integrations the cluster holds, by their labels, with their connectors' states. */
export function listIntegrations(expanded: Readonly<Record<string, ExpandedConnector>>): IntegrationRow[] {
  const rows = new Map<
    string,
    IntegrationRow & { stateCounts: Map<string, number>; taskStates: Array<{ state: string }> }
  >();
  for (const [name, e] of Object.entries(expanded).sort(([a], [b]) => a.localeCompare(b))) {
    const config = e.info?.config;
    if (config?.[LABEL_MANAGED_BY] !== MANAGED_BY) continue;
    const integration = config[LABEL_INTEGRATION];
    if (integration === undefined) continue;
    const row = rows.get(integration) ?? {
      integration,
      source: config[LABEL_SOURCE] ?? '',
      connectors: [],
      states: '',
      tasks: '',
      stateCounts: new Map<string, number>(),
      taskStates: [] as Array<{ state: string }>,
    };
    row.connectors.push(name);
    row.taskStates.push(...(e.status?.tasks ?? []));
    const state = e.status?.connector.state ?? 'UNKNOWN';
    row.stateCounts.set(state, (row.stateCounts.get(state) ?? 0) + 1);
    rows.set(integration, row);
  }
  return [...rows.values()]
    .sort((a, b) => a.integration.localeCompare(b.integration))
    .map(({ stateCounts, taskStates, ...r }) => ({
      ...r,
      states: [...stateCounts].map(([s, n]) => `${n} ${s}`).join(', '),
      tasks: taskSummary(taskStates),
    }));
}

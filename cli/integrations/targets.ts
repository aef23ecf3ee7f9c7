import { type ConnectTarget, resolveConnectTarget } from '../contexts/resolve.js';
import type { ConnectorConfig } from '../connect/types.js';
import type { Expansion } from '../../integrations/expand.js';
import { type Plan, computePlan } from './plan.js';

/**
 * Connectors can belong on more than one Connect cluster: a Debezium source on the customer's cluster
 * (`source.cluster`, a context name or URL), the sinks on ours (the one `--connect-url`/`--context` picks).
 * `plan`/`apply` compute and carry out one plan per cluster.
 */

/** The key of the cluster the command targets. */
export const DEFAULT_CLUSTER = '';

/** The expansion split by cluster; every part keeps all declared integrations (they own sinks everywhere). */
export function splitByCluster(expansion: Expansion): Map<string, Expansion> {
  const out = new Map<string, Expansion>([[DEFAULT_CLUSTER, { connectors: [], integrations: expansion.integrations }]]);
  for (const c of expansion.connectors) {
    const key = c.cluster ?? DEFAULT_CLUSTER;
    const part = out.get(key) ?? { connectors: [], integrations: expansion.integrations };
    part.connectors.push(c);
    out.set(key, part);
  }
  return out;
}

/**
 * Where a `source.cluster` points: a URL as given, otherwise the named context. The command's own
 * `--connect-url`, ERPSTREAM_CONNECT_URL and ERPSTREAM_CONTEXT are about *our* cluster and must not
 * redirect the other one.
 */
export async function resolveClusterTarget(cluster: string, env: NodeJS.ProcessEnv): Promise<ConnectTarget> {
  const own: NodeJS.ProcessEnv = { ...env };
  delete own.ERPSTREAM_CONNECT_URL;
  delete own.ERPSTREAM_CONTEXT;
  return /^https?:\/\//i.test(cluster)
    ? resolveConnectTarget({ connectUrl: cluster }, own)
    : resolveConnectTarget({ context: cluster }, own);
}

/**
 * One plan per cluster. On another team's cluster (a Debezium source's) only what these files generate is
 * created or updated: a managed source there that the files no longer generate may serve integrations in
 * other files, and its sinks live on a different cluster, so it is listed as left alone, never deleted.
 */
export function computeClusterPlans(
  expansion: Expansion,
  clusters: ReadonlyMap<string, ReadonlyMap<string, ConnectorConfig>>,
  options: { prune?: boolean } = {},
): Map<string, Plan> {
  const plans = new Map<string, Plan>();
  for (const [key, part] of splitByCluster(expansion)) {
    const plan = computePlan(part, clusters.get(key) ?? new Map(), { ...options, cluster: key });
    if (key !== DEFAULT_CLUSTER) {
      const kept = plan.items.filter((i) => !(i.action === 'delete' && i.role === 'source'));
      const left = plan.items.filter((i) => i.action === 'delete' && i.role === 'source').map((i) => i.name);
      plans.set(key, { items: kept, untouched: [...plan.untouched, ...left] });
    } else plans.set(key, plan);
  }
  return plans;
}

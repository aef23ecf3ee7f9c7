import { type DefinitionValidation, rejects, renderValidation, validateDefinition } from '../connect/apply.js';
import type { ConnectClient } from '../connect/client.js';
import { type CliContext, styleFor } from '../context.js';
import type { Plan } from './plan.js';
import { integrationRegistry } from '../../integrations/validate.js';

/**
 * What the cluster itself says about the connectors a plan creates or updates, before anything is written:
 * errors only the worker can know (a `${env:ERP_DB_URL}` it cannot resolve, a database it cannot reach) and
 * keys it does not declare. Offline validation cannot see the worker's environment; this does.
 */
export async function checkWithCluster(
  ctx: CliContext,
  client: ConnectClient,
  plan: Plan,
  strict: boolean,
): Promise<{ rejected: boolean; results: Array<{ name: string } & DefinitionValidation> }> {
  const results: Array<{ name: string } & DefinitionValidation> = [];
  const registry = integrationRegistry();
  for (const item of plan.items) {
    if ((item.action !== 'create' && item.action !== 'update') || !item.config) continue;
    const v = await validateDefinition(client, { name: item.name, config: item.config, source: 'integration' });
    // Unknown keys of a connector this build ships were named offline already, at their file field.
    const shipped = registry.find(item.role, item.config['connector.class'] ?? '') !== undefined;
    const warnings = shipped ? [] : v.warnings;
    if (v.errors.length > 0 || warnings.length > 0) results.push({ name: item.name, errors: v.errors, warnings });
  }
  const style = styleFor(ctx, 'stderr');
  for (const r of results) {
    ctx.stderr.write(`${style.bold(`connector "${r.name}"`)}: the cluster says\n${renderValidation(r, style, strict)}`);
  }
  return { rejected: results.some((r) => rejects(r, strict)), results };
}

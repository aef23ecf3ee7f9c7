import { type ConfigChange, diffConfigs } from '../diff.js';
import type { ConnectClient } from './client.js';
import type { ConnectorDefinition } from './connector-files.js';
import { displayValue, passwordKeysOf, secretTest } from './secrets.js';
import type { ConfigInfos } from './types.js';

/**
 * `connectors apply`: compare each definition with what the cluster holds, then write only what differs.
 * Applying the same files twice writes nothing the second time.
 */

export type ApplyAction = 'create' | 'update' | 'unchanged';

export interface ApplyPlanItem {
  definition: ConnectorDefinition;
  action: ApplyAction;
  /** Masked for display: secrets are `[hidden]`, `${provider:...}` references shown as written. */
  changes: ConfigChange[];
}

export async function planApply(client: ConnectClient, defs: readonly ConnectorDefinition[]): Promise<ApplyPlanItem[]> {
  const passwordKeys = new Map<string, Promise<Set<string>>>();
  const plan: ApplyPlanItem[] = [];
  for (const definition of defs) {
    const current = await client.findConnectorConfig(definition.name);
    const cls = definition.config['connector.class']!;
    if (!passwordKeys.has(cls)) passwordKeys.set(cls, passwordKeysOf(client, cls));
    const isSecret = secretTest(await passwordKeys.get(cls)!);
    const changes = diffConfigs(current, definition.config, (k, v) => displayValue(k, v, isSecret));
    const action: ApplyAction = current === undefined ? 'create' : changes.length === 0 ? 'unchanged' : 'update';
    plan.push({ definition, action, changes });
  }
  return plan;
}

export interface ApplyOutcome {
  name: string;
  action: ApplyAction;
  /** Whether the cluster was written to (false for unchanged items and dry runs). */
  written: boolean;
}

/** Writes each create/update with an upsert (`PUT .../config`), in file order; stops at the first failure. */
export async function executeApply(client: ConnectClient, item: ApplyPlanItem): Promise<ApplyOutcome> {
  const { name, config } = item.definition;
  if (item.action === 'unchanged') return { name, action: item.action, written: false };
  const { created } = await client.putConnectorConfig(name, config);
  // Someone may have created or deleted it between plan and write; report what actually happened.
  return { name, action: created ? 'create' : 'update', written: true };
}

export interface KeyErrors {
  key: string;
  errors: string[];
}

/** Runs Connect's validation for a definition and returns the keys with errors (empty when valid). */
export async function validateDefinition(client: ConnectClient, def: ConnectorDefinition): Promise<KeyErrors[]> {
  const result: ConfigInfos = await client.validateConfig(def.config['connector.class']!, def.config);
  return result.configs
    .filter((c) => c.value.errors.length > 0)
    .map((c) => ({ key: c.value.name, errors: c.value.errors }));
}

import { type ConfigChange, diffConfigs } from '../diff.js';
import type { ConnectClient } from './client.js';
import type { ConnectorDefinition } from './connector-files.js';
import { type UnknownKey, didYouMean, findUnknownKeys, unknownKeyMessage } from '../../runtime/worker/unknown-keys.js';
import { displayValue, passwordKeysOf, secretTest } from './secrets.js';
import type { Style } from '../output.js';
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

export interface KeyWarning {
  key: string;
  message: string;
  suggestions: string[];
}

export interface DefinitionValidation {
  /** Keys with errors, each error once (empty when valid). */
  errors: KeyErrors[];
  /** Keys neither the connector nor the framework declares: Connect ignores them, we name them. */
  warnings: KeyWarning[];
}

/**
 * Runs the cluster's validation for a definition. Unknown keys are found from the answer itself (the keys it
 * declares), so they are named against Apache Kafka Connect as well as against an erpstream worker.
 */
export async function validateDefinition(
  client: ConnectClient,
  def: ConnectorDefinition,
): Promise<DefinitionValidation> {
  const cls = def.config['connector.class']!;
  const result: ConfigInfos = await client.validateConfig(cls, def.config);
  const errors = result.configs
    .filter((c) => c.value.errors.length > 0)
    .map((c) => ({ key: c.value.name, errors: [...new Set(c.value.errors)] }));
  const warnings = unknownKeysOf(def.config, result).map((u) => ({
    key: u.key,
    message: unknownKeyMessage(u, shortClassName(cls)),
    suggestions: u.suggestions,
  }));
  return { errors, warnings };
}

/** An erpstream worker lists unknown keys without a definition and without errors; Connect leaves them out. */
function unknownKeysOf(config: Readonly<Record<string, string>>, infos: ConfigInfos): UnknownKey[] {
  // An answer that declares no key at all (not Connect's shape) cannot tell a typo from a key.
  if (!infos.configs.some((c) => c.definition !== null)) return [];
  const declared = infos.configs.filter((c) => c.definition !== null || c.value.errors.length > 0);
  const names = declared.map((c) => c.value.name);
  const listKeys = declared.filter((c) => c.definition?.type === 'LIST').map((c) => c.value.name);
  return findUnknownKeys(config, { names, listKeys }).map((u) => ({
    key: u.key,
    suggestions: u.suggestions.length > 0 ? u.suggestions : didYouMean(u.key, names),
  }));
}

function shortClassName(cls: string): string {
  return cls.slice(cls.lastIndexOf('.') + 1);
}

/** Whether a validation stops the command: errors always, unknown keys with --strict. */
export function rejects(v: DefinitionValidation, strict: boolean): boolean {
  return v.errors.length > 0 || (strict && v.warnings.length > 0);
}

/** The lines under a connector's heading: "!" for errors, "?" for unknown keys (errors with --strict). */
export function renderValidation(v: DefinitionValidation, style: Style, strict: boolean): string {
  return [
    ...v.errors.map((e) => style.red(`  ! ${e.key}: ${e.errors.join('; ')}\n`)),
    ...v.warnings.map((w) =>
      strict ? style.red(`  ! ${w.key}: ${w.message} (--strict)\n`) : style.yellow(`  ? warning: ${w.message}\n`),
    ),
  ].join('');
}

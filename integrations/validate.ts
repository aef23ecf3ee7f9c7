import { parseErpSourceSettings } from '../connectors/erp-source/public.js';
import { parseLookupSinkConfig } from '../connectors/lookup-sink/public.js';
import { ConfigError, type RawConfig } from '../runtime/api/index.js';
import { builtinRegistry } from '../bundle/builtin.js';
import type { PluginRegistry } from '../runtime/plugins/registry.js';
import { validateChainConfig } from '../runtime/transforms/chain.js';
import { taskTransformProblems } from '../runtime/worker/task-transforms.js';
import { hasPlaceholder as isProviderReference } from '../runtime/config-providers/index.js';
import type { Expansion, GeneratedConnector } from './expand.js';
import { ERP_SOURCE_CLASS, type FieldSpec, LOOKUP_SINK_CLASS, SINK_FIELDS, SOURCE_FIELDS, isGroup } from './fields.js';
import type { Problem } from './problems.js';

/**
 * Offline validation of the expanded connector configs against the plugins' own ConfigDefs, their cross-key
 * checks, and the transform chains (the connector's and a lookup sink's delivery chain) — each error reported at the integration-file field that wrote the key.
 * `${env:…}` values cannot be known offline: they are replaced by a stand-in for the checks and their own
 * errors are ignored (the worker resolves and checks them at start).
 */

export interface ValidationReport {
  problems: Problem[];
  /** Things that could not be checked offline (a connector class this build does not ship). */
  warnings: Problem[];
}

/** Cross-key checks that need no database: the plugins' own settings parsers. */
const CROSS_CHECKS: Record<string, (props: RawConfig) => unknown> = {
  [ERP_SOURCE_CLASS]: parseErpSourceSettings,
  [LOOKUP_SINK_CLASS]: parseLookupSinkConfig,
};

/** The plugins integration files expand to (the built-in registry). */
export function integrationRegistry(): PluginRegistry {
  integrationPlugins ??= builtinRegistry();
  return integrationPlugins;
}
let integrationPlugins: PluginRegistry | undefined;

function keyToField(specs: readonly FieldSpec[], path = '', out = new Map<string, string>()): Map<string, string> {
  for (const s of specs) {
    if (isGroup(s)) keyToField(s.fields, `${path}${s.f}.`, out);
    else out.set(s.key, `${path}${s.f}`);
  }
  return out;
}
const SOURCE_KEY_FIELDS = keyToField(SOURCE_FIELDS);
const SINK_KEY_FIELDS = keyToField(SINK_FIELDS);

function standIn(key: string): string {
  return /url/i.test(key) ? 'postgresql://placeholder:5432/placeholder' : 'placeholder';
}

function fieldOf(c: GeneratedConnector, key: string): string {
  const origin = c.origins[key];
  if (origin !== undefined) return origin;
  const known = (c.role === 'source' ? SOURCE_KEY_FIELDS : SINK_KEY_FIELDS).get(key);
  return known !== undefined ? `${c.path}.${known}` : `${c.path}.config.${key}`;
}

export function validateExpansion(
  expansion: Expansion,
  registry: PluginRegistry = integrationRegistry(),
): ValidationReport {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  // One problem per field: a base section generates keys in every sink, and its error would repeat.
  const reported = new Set<string>();
  for (const c of expansion.connectors) {
    const unresolved = new Set(Object.keys(c.config).filter((k) => isProviderReference(c.config[k]!)));
    const props: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.config)) props[k] = unresolved.has(k) ? standIn(k) : v;
    const report = (key: string, message: string): void => {
      if (unresolved.has(key)) return;
      const path = fieldOf(c, key);
      const where = `${c.file}\u0000${path}`;
      if (reported.has(where)) return;
      reported.add(where);
      problems.push({ file: c.file, path, message });
    };

    const cls = c.config['connector.class']!;
    const plugin = registry.find(c.role, cls);
    if (!plugin) {
      warnings.push({
        file: c.file,
        path: fieldOf(c, 'connector.class'),
        message: `"${cls}" is not a ${c.role} connector of this erpstream build; only the cluster can check its keys`,
      });
    } else {
      for (const result of plugin.config.validateAll(props).values()) {
        for (const e of result.errors) report(result.name, e);
      }
      const cross = CROSS_CHECKS[plugin.className];
      if (cross) {
        try {
          cross(props);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          report(e.key ?? 'connector.class', e.message);
        }
      }
    }
    if (c.config.transforms !== undefined) {
      const chain = validateChainConfig(props, registry);
      for (const info of chain.configs) for (const e of info.value.errors) report(info.value.name, e);
    }
    // Chains the plugin's tasks build under their own keys (the lookup sink's delivery.transforms), as the worker
    // validates them.
    const prefixes = plugin?.type === 'sink' ? (plugin.transformChainPrefixes ?? []) : [];
    for (const prefix of prefixes) {
      if (c.config[`${prefix}transforms`] === undefined) continue;
      for (const p of taskTransformProblems(registry, props, prefix)) report(p.key, p.message);
    }
  }
  return { problems, warnings };
}

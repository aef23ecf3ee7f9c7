import { connectorUnknownKeys } from '../runtime/worker/validation.js';
import { unknownKeyMessage } from '../runtime/worker/unknown-keys.js';
import type { PluginRegistry } from '../runtime/plugins/registry.js';
import type { Expansion } from './expand.js';
import type { Problem } from './problems.js';
import { integrationRegistry } from './validate.js';

/**
 * Keys a `config:` section of an integration file passes to a connector that the connector does not declare
 * (a typo such as `tables.include.list`): Connect would ignore them, so they are warnings (errors with
 * --strict), each at the field that wrote it, with the key it was probably meant to be.
 */
export function unknownConnectorKeys(
  expansion: Expansion,
  registry: PluginRegistry = integrationRegistry(),
): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  for (const c of expansion.connectors) {
    const plugin = registry.find(c.role, c.config['connector.class'] ?? '');
    if (!plugin) continue; // another build's connector: only its cluster knows its keys
    for (const u of connectorUnknownKeys(registry, plugin, c.config)) {
      const path = c.origins[u.key] ?? `${c.path}.config["${u.key}"]`;
      const where = `${c.file}\u0000${path}`;
      // A base file's config section is in every sink it generates: report it once.
      if (seen.has(where)) continue;
      seen.add(where);
      out.push({ file: c.file, path, message: unknownKeyMessage(u, plugin.className.replace(/^.*\./, '')) });
    }
  }
  return out;
}

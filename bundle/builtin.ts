import { connectorPlugins } from '../connectors/index.js';
import type { PluginDescriptor } from '../runtime/api/index.js';
import { converterPlugins, headerConverterPlugins } from '../runtime/converters/index.js';
import { PluginRegistry } from '../runtime/plugins/registry.js';
import { predicatePluginList, transformationPlugins } from '../transforms/index.js';

/**
 * The plugins this build ships, decided here and not in the engine (Redpanda Connect's `public/components/all`):
 * the runtime only resolves names in the registry its entry point hands it, so a plugin is added or dropped by
 * editing this list, and third-party plugins join the same registry from `plugin.path`.
 */
export function builtinPlugins(): PluginDescriptor[] {
  return [
    ...connectorPlugins,
    ...transformationPlugins,
    ...predicatePluginList,
    ...converterPlugins,
    ...headerConverterPlugins,
  ];
}

/** A fresh registry of the built-in plugins (fresh, so plugins registered into one never leak into another). */
export function builtinRegistry(): PluginRegistry {
  return new PluginRegistry(builtinPlugins());
}

import {
  type ConfigDef,
  type ConfigInfo,
  type ConfigInfos,
  type ConfigValueResult,
  type RawConfig,
  type SinkConnectorPlugin,
  type SourceConnectorPlugin,
} from '../api/index.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { TransformChain } from '../transforms/index.js';
import { configError, frameworkConfigDef, sinkTopicChecks } from './connector-config.js';
import { HerderError, badRequest } from './herder-types.js';

export type ConnectorPlugin = SourceConnectorPlugin | SinkConnectorPlugin;

/** Connect's plugin lookup error for an unknown connector.class (it answers 500 with this message). */
export function resolveConnectorPlugin(registry: PluginRegistry, className: string): ConnectorPlugin {
  const name = className.trim();
  const found = registry.find('source', name) ?? registry.find('sink', name) ?? findWithoutSuffix(registry, name);
  if (found) return found;
  const available = [...registry.list('source'), ...registry.list('sink')].map((p) => p.className).sort();
  throw new HerderError(
    500,
    `Failed to find any class that implements Connector and which name matches ${name}, available connectors are: ${available.join(', ')}`,
  );
}

/** `FileStreamSourceConnector` and `FileStreamSource` both name the same plugin (Connect's aliases). */
function findWithoutSuffix(registry: PluginRegistry, name: string): ConnectorPlugin | undefined {
  const alt = name.endsWith('Connector') ? name.slice(0, -'Connector'.length) : `${name}Connector`;
  return registry.find('source', alt) ?? registry.find('sink', alt);
}

/** The full spec of a connector: framework keys first, then the plugin's own (as Connect orders them). */
export function connectorConfigDef(plugin: ConnectorPlugin): ConfigDef {
  return frameworkConfigDef(plugin.type).include(plugin.config);
}

/** Connect's name matching for PUT /connector-plugins/{p}/config/validate. */
export function pluginNameMatches(connectorClass: string, pluginName: string): boolean {
  const norm = (s: string) => (s.endsWith('Connector') ? s.slice(0, -'Connector'.length) : s);
  return norm(connectorClass.trim()).endsWith(norm(pluginName.trim()));
}

function converterChecks(registry: PluginRegistry, props: RawConfig): ConfigValueResult[] {
  const out: ConfigValueResult[] = [];
  for (const [key, type] of [
    ['key.converter', 'converter'],
    ['value.converter', 'converter'],
    ['header.converter', 'header_converter'],
  ] as const) {
    const cls = props[key];
    if (typeof cls !== 'string' || cls.trim() === '') continue;
    if (!registry.find(type, cls)) {
      out.push(
        configError(key, `Invalid value ${cls} for configuration ${key}: Class ${cls} could not be found.`, cls),
      );
    }
  }
  return out;
}

/**
 * Validates a connector config into Connect's ConfigInfos: the framework keys, the plugin's keys, the
 * connector's own validate(), sink topic checks, converter classes and the transform chain.
 */
export async function validateConnectorConfig(
  registry: PluginRegistry,
  config: Record<string, string | null>,
  pluginName?: string,
): Promise<{ plugin: ConnectorPlugin; infos: ConfigInfos }> {
  const cls = config['connector.class'];
  if (typeof cls !== 'string' || cls.trim() === '') {
    const shown = Object.entries(config)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    throw badRequest(`Connector config {${shown}} contains no connector type`);
  }
  if (pluginName !== undefined && !pluginNameMatches(cls, pluginName)) {
    throw badRequest(`Included connector type ${cls} does not match request type ${pluginName}`);
  }
  const plugin = resolveConnectorPlugin(registry, cls);
  const props = config as RawConfig;
  const extra: ConfigValueResult[] = [...converterChecks(registry, props)];
  if (plugin.type === 'sink') extra.push(...sinkTopicChecks(props));
  const instance = plugin.create();
  if (instance.validate) {
    const own: Record<string, string> = {};
    for (const [k, v] of Object.entries(config)) if (v !== null) own[k] = v;
    try {
      extra.push(...(await instance.validate(own)));
    } catch (e) {
      extra.push(configError('connector.class', `Connector validation failed: ${(e as Error).message}`));
    }
  }
  const infos = connectorConfigDef(plugin).toConfigInfos(cls, props, extra);
  mergeChain(infos, TransformChain.validate(config, { registry }));
  return { plugin, infos };
}

function mergeChain(infos: ConfigInfos, chain: { groups: string[]; configs: ConfigInfo[] }): void {
  const byName = new Map(infos.configs.map((c) => [c.value.name, c]));
  for (const c of chain.configs) {
    const existing = byName.get(c.value.name);
    if (existing) {
      for (const e of c.value.errors) if (!existing.value.errors.includes(e)) existing.value.errors.push(e);
    } else {
      infos.configs.push(c);
      byName.set(c.value.name, c);
    }
  }
  for (const g of chain.groups) if (!infos.groups.includes(g)) infos.groups.push(g);
  infos.error_count = infos.configs.reduce((n, c) => n + c.value.errors.length, 0);
}

import {
  ERPSTREAM_VERSION,
  ErpStreamError,
  type ConfigDef,
  Password,
  type ConfigInfo,
  type ConfigInfos,
  type ConfigValueResult,
  type RawConfig,
  type SinkConnectorPlugin,
  type SourceConnectorPlugin,
  isSecretKey,
  redactConfig,
  secretTest,
} from '../api/index.js';
import { type ConfigTransformer, hasPlaceholder } from '../config-providers/index.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { TransformChain } from '../transforms/index.js';
import { taskTransformProblems } from './task-transforms.js';
import { pluginVersionProblem } from '../plugins/plugin-version.js';
import {
  HEADER_CONVERTER_CLASS_CONFIG,
  KEY_CONVERTER_CLASS_CONFIG,
  VALUE_CONVERTER_CLASS_CONFIG,
  configError,
  consumerOverrideChecks,
  producerOverrideChecks,
  frameworkConfigDef,
  sinkTopicChecks,
  topicCreationChecks,
} from './connector-config.js';
import { badRequest } from './herder-types.js';
import { type UnknownKey, findUnknownKeys } from './unknown-keys.js';

export type ConnectorPlugin = SourceConnectorPlugin | SinkConnectorPlugin;

/** Connect's plugin lookup error for an unknown connector.class (Connect 4.x answers 400 with this message). */
export function resolveConnectorPlugin(registry: PluginRegistry, className: string): ConnectorPlugin {
  const name = className.trim();
  const found = registry.find('source', name) ?? registry.find('sink', name) ?? findWithoutSuffix(registry, name);
  if (found) return found;
  const available = [...registry.list('source'), ...registry.list('sink')].map((p) => p.className).sort();
  throw new ErpStreamError(
    'ERPSTREAM_CONNECTOR_CLASS_UNKNOWN',
    `Failed to find any class that implements Connector and which name matches ${name}, available connectors are: ${available.join(', ')}`,
  );
}

/** `FileStreamSourceConnector` and `FileStreamSource` both name the same plugin (Connect's aliases). */
function findWithoutSuffix(registry: PluginRegistry, name: string): ConnectorPlugin | undefined {
  const alt = name.endsWith('Connector') ? name.slice(0, -'Connector'.length) : `${name}Connector`;
  return registry.find('source', alt) ?? registry.find('sink', alt);
}

/**
 * The full spec of a connector: framework keys first, then the plugin's own (as Connect orders them). Given the
 * config, the KIP-891 converter version keys default to the configured converters' versions, as Connect's do (a
 * converter left to the worker's default is one of ours).
 */
export function connectorConfigDef(
  plugin: ConnectorPlugin,
  registry?: PluginRegistry,
  props?: Readonly<RawConfig>,
): ConfigDef {
  const converterVersion = (key: string, type: 'converter' | 'header_converter') => {
    if (!registry || !props) return null;
    const cls = props[key];
    if (typeof cls !== 'string' || cls.trim() === '') return ERPSTREAM_VERSION;
    return registry.find(type, cls)?.version ?? null;
  };
  return frameworkConfigDef(plugin.type, {
    connector: plugin.version,
    key: converterVersion(KEY_CONVERTER_CLASS_CONFIG, 'converter'),
    value: converterVersion(VALUE_CONVERTER_CLASS_CONFIG, 'converter'),
    header: converterVersion(HEADER_CONVERTER_CLASS_CONFIG, 'header_converter'),
  }).include(plugin.config);
}

/** Connect's name matching for PUT /connector-plugins/{p}/config/validate. */
export function pluginNameMatches(connectorClass: string, pluginName: string): boolean {
  const norm = (s: string) => (s.endsWith('Connector') ? s.slice(0, -'Connector'.length) : s);
  return norm(connectorClass.trim()).endsWith(norm(pluginName.trim()));
}

/** Problems of the chains the tasks will build under the plugin's own prefixes, each under its prefixed key. */
function taskChainChecks(
  registry: PluginRegistry,
  present: Readonly<Record<string, string>>,
  prefixes: readonly string[],
): ConfigValueResult[] {
  return prefixes.flatMap((prefix) =>
    taskTransformProblems(registry, present, prefix).map((p) => configError(p.key, p.message, present[p.key] ?? null)),
  );
}

/** The keys that have a value (a null in a REST body means the key is absent). */
function withoutNulls(config: Readonly<Record<string, string | null>>): Record<string, string> {
  const present: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) if (v !== null) present[k] = v;
  return present;
}

/**
 * Connect's AbstractHerder: a null value is an error for every key but the connector's own (whose ConfigDef
 * takes a null as "no value", so `"file": null` is accepted and stored as null).
 */
function nullChecks(plugin: ConnectorPlugin, config: Readonly<Record<string, string | null>>): ConfigValueResult[] {
  return Object.entries(config)
    .filter(([k, v]) => v === null && !plugin.config.key(k))
    .map(([k]) => configError(k, 'Null value can not be supplied as the configuration value.'));
}

function converterChecks(registry: PluginRegistry, props: RawConfig): ConfigValueResult[] {
  const out: ConfigValueResult[] = [];
  for (const [key, type] of [
    [KEY_CONVERTER_CLASS_CONFIG, 'converter'],
    [VALUE_CONVERTER_CLASS_CONFIG, 'converter'],
    [HEADER_CONVERTER_CLASS_CONFIG, 'header_converter'],
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
 * KIP-891 version keys of the connector and its converters (the chain's are checked with the chain). A version
 * we do not have marks the class key and its version key, as Connect 4.x reports it.
 */
function pluginVersionChecks(registry: PluginRegistry, plugin: ConnectorPlugin, props: RawConfig): ConfigValueResult[] {
  const out: ConfigValueResult[] = [];
  const check = (classKey: string, found: { className: string; version: string } | undefined) => {
    const spec = props[`${classKey}.plugin.version`];
    if (!found || typeof spec !== 'string') return;
    const problem = pluginVersionProblem(found.className, found.version, spec);
    if (problem) {
      out.push(configError(classKey, problem, props[classKey] ?? null));
      out.push(configError(`${classKey}.plugin.version`, problem, spec));
    }
  };
  check('connector', { className: plugin.className, version: plugin.version });
  for (const [key, type] of [
    [KEY_CONVERTER_CLASS_CONFIG, 'converter'],
    [VALUE_CONVERTER_CLASS_CONFIG, 'converter'],
    [HEADER_CONVERTER_CLASS_CONFIG, 'header_converter'],
  ] as const) {
    const cls = props[key];
    if (typeof cls === 'string' && cls.trim() !== '') check(key, registry.find(type, cls));
  }
  // connector.plugin.version's errors show on connector.class too
  return out.map((r) => (r.name === 'connector' ? { ...r, name: 'connector.class' } : r));
}

/**
 * Validates a connector config into Connect's ConfigInfos: the framework keys, the plugin's keys, the
 * connector's own validate(), sink topic checks, converter classes and the transform chain.
 */
export async function validateConnectorConfig(
  registry: PluginRegistry,
  rawConfig: Record<string, string | null>,
  options: { pluginName?: string; transformer?: ConfigTransformer } = {},
): Promise<{ plugin: ConnectorPlugin; infos: ConfigInfos }> {
  const { pluginName, transformer } = options;
  const cls = rawConfig['connector.class'];
  if (typeof cls !== 'string' || cls.trim() === '') {
    const isSecret = secretTest(registry.connectorPasswordKeys(undefined));
    const shown = Object.entries(redactConfig(rawConfig, isSecret))
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    throw badRequest(`Connector config {${shown}} contains no connector type`);
  }
  if (pluginName !== undefined && !pluginNameMatches(cls, pluginName)) {
    throw badRequest(`Included connector type ${cls} does not match request type ${pluginName}`);
  }
  const plugin = resolveConnectorPlugin(registry, cls);
  // Connect validates what the connector will be given: placeholders resolved (AbstractHerder.validateConnectorConfig).
  const { config, placeholderErrors } = transformer
    ? await resolveForValidation(transformer, rawConfig)
    : { config: rawConfig, placeholderErrors: [] };
  const props = config as RawConfig;
  const present = withoutNulls(config);
  const extra: ConfigValueResult[] = [
    ...placeholderErrors,
    ...converterChecks(registry, props),
    ...pluginVersionChecks(registry, plugin, props),
    ...nullChecks(plugin, rawConfig),
  ];
  if (plugin.type === 'sink') {
    extra.push(...sinkTopicChecks(props));
    extra.push(...consumerOverrideChecks(props));
    extra.push(...taskChainChecks(registry, present, plugin.transformChainPrefixes ?? []));
  } else {
    extra.push(...producerOverrideChecks(props));
  }
  extra.push(...topicCreationChecks(props));
  const instance = plugin.create();
  if (instance.validate) {
    try {
      extra.push(...(await instance.validate(present)));
    } catch (e) {
      extra.push(configError('connector.class', `Connector validation failed: ${(e as Error).message}`));
    }
  }
  const def = connectorConfigDef(plugin, registry, props);
  const infos = def.toConfigInfos(cls, props, extra);
  mergeChain(infos, TransformChain.validate(config, { registry }));
  keepOnlyPlaceholderErrors(infos, placeholderErrors);
  addUnknownKeys(infos, def, present, plugin.type === 'sink' ? (plugin.transformChainPrefixes ?? []) : []);
  if (config !== rawConfig) hideResolvedValues(infos, def, rawConfig, config);
  return { plugin, infos };
}

/** A key whose placeholder did not resolve shows that, not what its literal "${env:…}" text fails next. */
function keepOnlyPlaceholderErrors(infos: ConfigInfos, placeholderErrors: readonly ConfigValueResult[]): void {
  if (placeholderErrors.length === 0) return;
  const byKey = new Map<string, string[]>();
  for (const e of placeholderErrors) byKey.set(e.name, [...(byKey.get(e.name) ?? []), ...e.errors]);
  for (const c of infos.configs) {
    const only = byKey.get(c.value.name);
    if (only) c.value.errors = [...new Set(only)];
  }
  infos.error_count = infos.configs.reduce((n, c) => n + c.value.errors.length, 0);
}

/**
 * Keys neither the connector, the framework nor a configured transform declares are listed as Connect lists a
 * value without a key (definition null), with no error, so Connect clients still see a valid config; their
 * recommended_values are the declared keys they were probably meant to be (`erpstream` prints "did you mean").
 */
function addUnknownKeys(
  infos: ConfigInfos,
  def: ConfigDef,
  present: Readonly<Record<string, string>>,
  chainPrefixes: readonly string[],
): void {
  const unknown = unknownKeysAgainst(
    def,
    infos.configs.map((c) => c.value.name),
    present,
    chainPrefixes,
  );
  for (const u of unknown) {
    infos.configs.push({
      definition: null,
      value: {
        name: u.key,
        value: isSecretKey(u.key) ? Password.HIDDEN : present[u.key]!,
        recommended_values: u.suggestions,
        errors: [],
        visible: true,
      },
    });
  }
}

function unknownKeysAgainst(
  def: ConfigDef,
  alsoKnown: readonly string[],
  present: Readonly<Record<string, string>>,
  chainPrefixes: readonly string[],
): UnknownKey[] {
  const declared = def.configKeys();
  const chainKeys = chainPrefixes.flatMap((p) => [`${p}transforms`, `${p}predicates`]);
  return findUnknownKeys(present, {
    names: [...declared.flatMap((k) => [k.name, ...(k.aliases ?? [])]), ...alsoKnown, ...chainKeys],
    listKeys: [...declared.filter((k) => k.type === 'LIST').map((k) => k.name), ...chainKeys],
  });
}

/**
 * The unknown keys of a connector config, offline (no connector validate(), no providers): what `erpstream
 * integrations validate` warns about before anything reaches a cluster.
 */
export function connectorUnknownKeys(
  registry: PluginRegistry,
  plugin: ConnectorPlugin,
  config: Readonly<Record<string, string>>,
): UnknownKey[] {
  const chain = TransformChain.validate(config, { registry });
  return unknownKeysAgainst(
    connectorConfigDef(plugin),
    chain.configs.map((c) => c.value.name),
    config,
    plugin.type === 'sink' ? (plugin.transformChainPrefixes ?? []) : [],
  );
}

async function resolveForValidation(
  transformer: ConfigTransformer,
  rawConfig: Record<string, string | null>,
): Promise<{ config: Record<string, string | null>; placeholderErrors: ConfigValueResult[] }> {
  // A placeholder that cannot be resolved stays as it is (Connect's ConfigTransformer), and unlike Connect it is an
  // error on its key: the worker could not start the connector with it, so say which placeholder and why now.
  const { data, problems } = await transformer.transform(withoutNulls(rawConfig));
  return {
    config: { ...rawConfig, ...data },
    placeholderErrors: problems.map((p) => configError(p.key, p.message, rawConfig[p.key] ?? null)),
  };
}

/**
 * Validation ran on resolved values, but the answer must not carry them: values that came from a placeholder
 * are shown as the placeholder, and resolved secrets (PASSWORD keys, and undeclared keys named like secrets)
 * are replaced by their placeholder wherever an error message (ours or a connector's) repeats them.
 */
function hideResolvedValues(
  infos: ConfigInfos,
  def: ConfigDef,
  rawConfig: Readonly<Record<string, string | null>>,
  resolved: Readonly<Record<string, string | null>>,
): void {
  const secrets: Array<[string, string]> = [];
  for (const [k, raw] of Object.entries(rawConfig)) {
    const value = resolved[k];
    if (raw === null || value === null || value === undefined || value === raw || !hasPlaceholder(raw)) continue;
    const type = def.key(k)?.type;
    if (value !== '' && (type === 'PASSWORD' || (type === undefined && isSecretKey(k)))) {
      secrets.push([value, raw]);
    }
  }
  // Longest first, so a secret that contains another is replaced whole.
  secrets.sort(([a], [b]) => b.length - a.length);
  const scrub = (text: string) => secrets.reduce((t, [secret, raw]) => t.split(secret).join(raw), text);
  for (const c of infos.configs) {
    const raw = rawConfig[c.value.name];
    if (typeof raw === 'string' && hasPlaceholder(raw) && c.value.value !== Password.HIDDEN) c.value.value = raw;
    else if (typeof c.value.value === 'string') c.value.value = scrub(c.value.value);
    c.value.errors = c.value.errors.map(scrub);
    c.value.recommended_values = c.value.recommended_values.map(scrub);
  }
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

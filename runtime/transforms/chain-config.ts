import {
  ConfigDef,
  ConfigError,
  type ConfigInfo,
  type ConfigKey,
  type ConfigValueResult,
  type PluginDescriptor,
  type RawConfig,
  type Recommender,
  type Validator,
} from '../api/index.js';
import { pluginVersionProblem } from '../plugins/plugin-version.js';
import type { PluginRegistry } from '../plugins/registry.js';

/**
 * The connector-config side of a transform chain, as Kafka Connect's ConnectorConfig.enrich does it:
 * `transforms` / `predicates` list aliases, and each alias gets `transforms.<a>.type`,
 * `transforms.<a>.predicate`, `transforms.<a>.negate` plus the SMT's own keys under its prefix
 * (`predicates.<p>.type` plus the predicate's keys). Validation errors always name the prefixed key.
 */

export const TRANSFORMS_CONFIG = 'transforms';
export const PREDICATES_CONFIG = 'predicates';
export const TRANSFORMS_GROUP = 'Transforms';
export const PREDICATES_GROUP = 'Predicates';
export const PREDICATE_KEY = 'predicate';
export const NEGATE_KEY = 'negate';

export type ConnectorConfigInput = Readonly<Record<string, unknown>>;

function uniqueAliases(kind: string): Validator {
  return {
    ensureValid(name, value) {
      const aliases = (value as string[] | null) ?? [];
      const seen = new Set<string>();
      for (const a of aliases) {
        if (a === '') throw new ConfigError(`Invalid value for configuration ${name}: empty ${kind} alias`, name);
        if (seen.has(a)) {
          throw new ConfigError(
            `Invalid value ${aliases.join(',')} for configuration ${name}: Duplicate alias provided.`,
            name,
          );
        }
        seen.add(a);
      }
    },
    describe: () => `unique ${kind} aliases`,
  };
}

/** `transforms` and `predicates` themselves; the connector's common ConfigDef can include() this. */
export function chainBaseConfigDef(): ConfigDef {
  return new ConfigDef()
    .define({
      name: TRANSFORMS_CONFIG,
      type: 'LIST',
      defaultValue: '',
      importance: 'LOW',
      documentation: 'Aliases for the transformations to be applied to records.',
      group: TRANSFORMS_GROUP,
      displayName: 'Transforms',
      validator: uniqueAliases('transformation'),
    })
    .define({
      name: PREDICATES_CONFIG,
      type: 'LIST',
      defaultValue: '',
      importance: 'LOW',
      documentation: 'Aliases for the predicates used by transformations.',
      group: PREDICATES_GROUP,
      displayName: 'Predicates',
      validator: uniqueAliases('predicate'),
    });
}

/** Accepts a connector config as parsed from JSON/YAML: scalars and lists only, nothing nested. */
export function toRawConfig(config: ConnectorConfigInput): RawConfig {
  const raw: Record<string, RawConfig[string]> = {};
  for (const [key, value] of Object.entries(config)) {
    if (
      value === null ||
      value === undefined ||
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean'
    ) {
      raw[key] = value;
    } else if (Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) {
      raw[key] = value.map(String);
    } else {
      throw ConfigError.invalid(key, value, 'Expected a string, number, boolean or a list of them');
    }
  }
  return raw;
}

/** Levenshtein distance, to suggest the class a user probably meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

function simpleName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1).toLowerCase();
}

/** The names users can write: aliases where a plugin has them, else the class name. */
function knownNames(plugins: readonly PluginDescriptor[]): string[] {
  return plugins.flatMap((p) => (p.aliases && p.aliases.length > 0 ? [...p.aliases] : [p.className]));
}

function classNotFound(
  key: string,
  value: string,
  kind: 'transformation' | 'predicate',
  registry: PluginRegistry,
): ConfigError {
  const plugins = registry.list(kind);
  const names = knownNames(plugins);
  const wanted = simpleName(value);
  const close = plugins
    .flatMap((p) => [p.className, ...(p.aliases ?? [])])
    .map((n) => ({ n, d: distance(wanted, simpleName(n)) }))
    .filter((c) => c.d <= Math.max(2, Math.floor(wanted.length / 4)))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((c) => c.n);
  const other = kind === 'transformation' ? 'predicate' : 'transformation';
  const misplaced = registry.find(other, value)
    ? ` ${value} is a ${other}: declare it under ${other === 'predicate' ? 'predicates.<alias>.type' : 'transforms.<alias>.type'}.`
    : '';
  const hint = close.length > 0 ? ` Did you mean ${close.join(' or ')}?` : '';
  const known = names.length > 0 ? ` Known ${kind}s: ${names.join(', ')}.` : ` No ${kind} plugins are installed.`;
  return new ConfigError(
    `Invalid value ${value} for configuration ${key}: Class ${value} could not be found.${misplaced}${hint}${known}`,
    key,
  );
}

function classValidator(kind: 'transformation' | 'predicate', registry: PluginRegistry): Validator {
  return {
    ensureValid(name, value) {
      if (typeof value !== 'string' || value === '') {
        throw new ConfigError(`Invalid value for configuration ${name}: a ${kind} class name is required.`, name);
      }
      if (!registry.find(kind, value)) throw classNotFound(name, value, kind, registry);
    },
    describe: () => `a ${kind} class`,
  };
}

function classRecommender(kind: 'transformation' | 'predicate', registry: PluginRegistry): Recommender {
  return {
    validValues: () => registry.list(kind).map((p) => p.className),
    visible: () => true,
  };
}

/** Re-keys a plugin's recommender so it sees the plugin's own (unprefixed) key names. */
function prefixedRecommender(recommender: Recommender, prefix: string): Recommender {
  const unprefix = (parsed: Readonly<Record<string, unknown>>): Record<string, unknown> => {
    const own: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(parsed)) if (k.startsWith(prefix)) own[k.slice(prefix.length)] = v;
    return own;
  };
  return {
    validValues: (name, parsed) => recommender.validValues(name.slice(prefix.length), unprefix(parsed)),
    visible: (name, parsed) => recommender.visible(name.slice(prefix.length), unprefix(parsed)),
  };
}

/**
 * `<prefix>plugin.version` (KIP-891, Connect 4.1+), right after `<prefix>type`: a version or a Maven range the
 * plugin's version must satisfy (we ship one version of each plugin).
 */
function pluginVersionKey(
  prefix: string,
  group: string,
  kind: 'transformation' | 'predicate',
  alias: string,
  plugin: { className: string; version: string } | undefined,
): ConfigKey {
  return {
    name: `${prefix}plugin.version`,
    type: 'STRING',
    defaultValue: plugin?.version ?? null,
    importance: 'HIGH',
    documentation: `Version of the '${alias}' ${kind}.`,
    group,
    orderInGroup: 1,
    width: 'LONG',
    displayName: `${kind === 'transformation' ? 'Transformation' : 'Predicate'} version for ${alias}`,
    dependents: [],
    validator: {
      ensureValid(name, value) {
        if (!plugin || typeof value !== 'string') return;
        const problem = pluginVersionProblem(plugin.className, plugin.version, value);
        if (problem) throw new ConfigError(problem, name);
      },
      describe: () => 'a version or a Maven version range',
    },
    recommender: { validValues: () => (plugin ? [plugin.version] : []), visible: () => true },
  };
}

/** A version the plugin does not satisfy is reported on `<prefix>type` too, as Connect 4.x reports it. */
function versionOnType(
  prefix: string,
  raw: RawConfig,
  plugin: { className: string; version: string } | undefined,
): ConfigValueResult[] {
  const spec = raw[`${prefix}plugin.version`];
  if (!plugin || typeof spec !== 'string') return [];
  const problem = pluginVersionProblem(plugin.className, plugin.version, spec);
  return problem
    ? [{ name: `${prefix}type`, value: raw[`${prefix}type`], recommendedValues: [], errors: [problem], visible: true }]
    : [];
}

/** Connect's ConfigDef.embed: the plugin's keys under `prefix`, in `group`, after `startOrder`. */
function embed(def: ConfigDef, prefix: string, group: string, startOrder: number, plugin: ConfigDef, skip: string[]) {
  let order = startOrder;
  for (const key of plugin.configKeys()) {
    if (skip.includes(key.name)) continue;
    const embedded: ConfigKey = {
      ...key,
      name: prefix + key.name,
      group,
      orderInGroup: order++,
      dependents: key.dependents.map((d) => prefix + d),
      ...(key.aliases ? { aliases: key.aliases.map((a) => prefix + a) } : {}),
      ...(key.recommender ? { recommender: prefixedRecommender(key.recommender, prefix) } : {}),
    };
    def.define(embedded);
  }
  return order;
}

export interface ChainAliases {
  transforms: string[];
  predicates: string[];
}

/** What the chain config says, fully analysed: the ConfigDef (base + per-alias keys) and every problem. */
export interface ChainConfigAnalysis {
  raw: RawConfig;
  def: ConfigDef;
  aliases: ChainAliases;
  /** Cross-key problems the per-key validators cannot see (e.g. negate without predicate). */
  extra: ConfigValueResult[];
}

function listValue(def: ConfigDef, raw: RawConfig, key: string): string[] {
  const results = def.validateAll(raw);
  const r = results.get(key);
  return r && r.errors.length === 0 && Array.isArray(r.value) ? (r.value as string[]) : [];
}

export function analyzeChainConfig(config: ConnectorConfigInput, registry: PluginRegistry): ChainConfigAnalysis {
  const raw = toRawConfig(config);
  const base = chainBaseConfigDef();
  const aliases = {
    transforms: listValue(base, raw, TRANSFORMS_CONFIG),
    predicates: listValue(base, raw, PREDICATES_CONFIG),
  };
  const def = new ConfigDef().include(base);
  const extra: ConfigValueResult[] = [];

  for (const alias of aliases.transforms) {
    const prefix = `${TRANSFORMS_CONFIG}.${alias}.`;
    const group = `${TRANSFORMS_GROUP}: ${alias}`;
    def.define({
      name: `${prefix}type`,
      type: 'CLASS',
      importance: 'HIGH',
      documentation: `Class for the '${alias}' transformation.`,
      group,
      orderInGroup: 0,
      width: 'LONG',
      displayName: `Transformation type for ${alias}`,
      validator: classValidator('transformation', registry),
      recommender: classRecommender('transformation', registry),
    });
    let order = 2;
    const typeName = raw[`${prefix}type`];
    const plugin = typeof typeName === 'string' ? registry.find('transformation', typeName) : undefined;
    def.define(pluginVersionKey(prefix, group, 'transformation', alias, plugin));
    extra.push(...versionOnType(prefix, raw, plugin));
    for (const [key, message] of Object.entries(plugin?.removedKeys ?? {})) {
      const value = raw[`${prefix}${key}`];
      if (value === undefined || value === null) continue;
      extra.push({
        name: `${prefix}${key}`,
        value,
        recommendedValues: [],
        errors: [`Invalid value ${String(value)} for configuration ${prefix}${key}: ${message}`],
        visible: true,
      });
    }
    if (plugin) order = embed(def, prefix, group, order, plugin.config, ['type', PREDICATE_KEY, NEGATE_KEY]);
    def.define({
      name: `${prefix}${PREDICATE_KEY}`,
      type: 'STRING',
      defaultValue: null,
      importance: 'MEDIUM',
      documentation: 'The alias of a predicate used to determine whether to apply this transformation.',
      group,
      orderInGroup: order++,
      validator: {
        ensureValid(name, value) {
          if (value === null || value === undefined || value === '') return;
          if (!aliases.predicates.includes(value as string)) {
            const declared = aliases.predicates.length > 0 ? aliases.predicates.join(', ') : 'none';
            throw new ConfigError(
              `Invalid value ${String(value)} for configuration ${name}: Predicate '${String(value)}' is not declared; ` +
                `add it to 'predicates' and set 'predicates.${String(value)}.type' (declared predicates: ${declared}).`,
              name,
            );
          }
        },
        describe: () => 'a predicate alias listed in predicates',
      },
    });
    def.define({
      name: `${prefix}${NEGATE_KEY}`,
      type: 'BOOLEAN',
      defaultValue: false,
      importance: 'MEDIUM',
      documentation: 'Whether the configured predicate should be negated.',
      group,
      orderInGroup: order++,
    });
    const predicate = raw[`${prefix}${PREDICATE_KEY}`];
    const negate = raw[`${prefix}${NEGATE_KEY}`];
    if (
      negate !== undefined &&
      negate !== null &&
      (predicate === undefined || predicate === null || predicate === '')
    ) {
      extra.push({
        name: `${prefix}${NEGATE_KEY}`,
        value: negate,
        recommendedValues: [],
        errors: [
          `Config '${prefix}${NEGATE_KEY}' was provided but there is no config '${prefix}${PREDICATE_KEY}' defining a predicate to be negated.`,
        ],
        visible: true,
      });
    }
  }

  for (const alias of aliases.predicates) {
    const prefix = `${PREDICATES_CONFIG}.${alias}.`;
    const group = `${PREDICATES_GROUP}: ${alias}`;
    def.define({
      name: `${prefix}type`,
      type: 'CLASS',
      importance: 'HIGH',
      documentation: `Class for the '${alias}' predicate.`,
      group,
      orderInGroup: 0,
      width: 'LONG',
      displayName: `Predicate type for ${alias}`,
      validator: classValidator('predicate', registry),
      recommender: classRecommender('predicate', registry),
    });
    const typeName = raw[`${prefix}type`];
    const plugin = typeof typeName === 'string' ? registry.find('predicate', typeName) : undefined;
    def.define(pluginVersionKey(prefix, group, 'predicate', alias, plugin));
    extra.push(...versionOnType(prefix, raw, plugin));
    if (plugin) embed(def, prefix, group, 2, plugin.config, ['type']);
  }
  return { raw, def, aliases, extra };
}

/** Every problem of a chain config as `key: message` pairs, in config order. */
export function chainConfigProblems(analysis: ChainConfigAnalysis): Array<{ key: string; message: string }> {
  const problems: Array<{ key: string; message: string }> = [];
  for (const result of analysis.def.validateAll(analysis.raw).values()) {
    for (const message of result.errors) problems.push({ key: result.name, message });
  }
  for (const e of analysis.extra) for (const message of e.errors) problems.push({ key: e.name, message });
  return problems;
}

/** The chain's part of Connect's ConfigInfos (REST validate): its groups and one ConfigInfo per key. */
export interface ChainValidation {
  groups: string[];
  configs: ConfigInfo[];
  errorCount: number;
}

export function validateChain(config: ConnectorConfigInput, registry: PluginRegistry): ChainValidation {
  const analysis = analyzeChainConfig(config, registry);
  const infos = analysis.def.toConfigInfos('chain', analysis.raw, analysis.extra);
  return { groups: infos.groups, configs: infos.configs, errorCount: infos.error_count };
}

const KNOWN_TAIL =
  / (Known (?:transformation|predicate)s: .*\.|No (?:transformation|predicate) plugins are installed\.)$/;

/** Raised when the chain config is invalid; lists every problem, each naming its prefixed key. */
export class ChainConfigError extends ConfigError {
  readonly problems: ReadonlyArray<{ key: string; message: string }>;

  constructor(problems: Array<{ key: string; message: string }>, cause?: unknown) {
    const lines = problems.map((p) => (p.message.includes(p.key) ? p.message : `${p.key}: ${p.message}`));
    // Several unknown classes would repeat the same "Known ...: <long list>" tail: say it once, last.
    const tails = new Set<string>();
    const trimmed =
      lines.length > 1
        ? lines.map((line) =>
            line.replace(KNOWN_TAIL, (tail) => {
              tails.add(tail.trim());
              return '';
            }),
          )
        : lines;
    super([...trimmed, ...tails].join('\n'), problems[0]?.key);
    this.problems = problems;
    if (cause !== undefined) this.cause = cause;
  }
}

/** A ConfigError thrown by a plugin's configure(), re-keyed to the prefixed name the user wrote. */
export function prefixConfigError(error: unknown, prefix: string, who: string): ChainConfigError {
  if (error instanceof ConfigError && error.key !== undefined) {
    const key = error.key.startsWith(prefix) ? error.key : prefix + error.key;
    let message = error.message
      .replace(`configuration ${error.key}:`, `configuration ${key}:`)
      .replace(`"${error.key}"`, `"${key}"`);
    if (!message.includes(key)) message = `${key}: ${message}`;
    return new ChainConfigError([{ key, message }], error);
  }
  const text = error instanceof Error ? error.message : String(error);
  return new ChainConfigError([{ key: `${prefix}type`, message: `${who} could not be configured: ${text}` }], error);
}

/** The plugin's own props: everything under the prefix, minus the chain's predicate/negate keys. */
export function pluginProps(raw: RawConfig, prefix: string, drop: readonly string[]): RawConfig {
  const own: Record<string, RawConfig[string]> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!k.startsWith(prefix)) continue;
    const name = k.slice(prefix.length);
    if (!drop.includes(name)) own[name] = v;
  }
  return own;
}

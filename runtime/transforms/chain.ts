import type { ConnectRecord, Predicate, Transformation } from '../api/index.js';
import type { PluginRegistry } from '../plugins/registry.js';
import {
  ChainConfigError,
  type ChainValidation,
  type ConnectorConfigInput,
  NEGATE_KEY,
  PREDICATE_KEY,
  PREDICATES_CONFIG,
  TRANSFORMS_CONFIG,
  analyzeChainConfig,
  chainConfigProblems,
  pluginProps,
  prefixConfigError,
  validateChain,
} from './chain-config.js';
import { TransformError } from './transform-error.js';

/** One configured transform of the chain, with its optional predicate. */
export interface TransformStage {
  readonly alias: string;
  readonly className: string;
  readonly transformation: Transformation;
  readonly predicate: {
    readonly alias: string;
    readonly className: string;
    readonly instance: Predicate;
  } | null;
  readonly negate: boolean;
}

export interface BuildChainOptions {
  /** Where `transforms.<a>.type` / `predicates.<p>.type` are resolved (the entry point's registry; no default). */
  registry: PluginRegistry;
}

/**
 * A connector's transform chain, built exactly as Kafka Connect builds it from `transforms`,
 * `transforms.<alias>.*`, `predicates` and `predicates.<alias>.*`. A stage with a predicate runs only
 * when `predicate.test(record) XOR negate`; a transform returning null drops the record.
 */
export class TransformChain<R extends ConnectRecord = ConnectRecord> {
  readonly stages: readonly TransformStage[];
  private closed = false;

  private constructor(stages: TransformStage[]) {
    this.stages = stages;
  }

  /** A chain that passes records through unchanged (a connector without `transforms`). */
  static empty<R extends ConnectRecord = ConnectRecord>(): TransformChain<R> {
    return new TransformChain<R>([]);
  }

  /**
   * Validates the whole chain config first (every problem reported at once, each naming its prefixed
   * key), then creates and configures every transform and predicate, awaiting async configure() before
   * the chain is returned. On a configure failure, whatever was already created is closed.
   */
  static async build<R extends ConnectRecord = ConnectRecord>(
    config: ConnectorConfigInput,
    options: BuildChainOptions,
  ): Promise<TransformChain<R>> {
    const { registry } = options;
    const analysis = analyzeChainConfig(config, registry);
    const problems = chainConfigProblems(analysis);
    if (problems.length > 0) throw new ChainConfigError(problems);

    const { raw, def, aliases } = analysis;
    const parsed = def.parse(raw);
    const stages: TransformStage[] = [];
    const created: Array<Transformation | Predicate> = [];
    try {
      for (const alias of aliases.transforms) {
        const prefix = `${TRANSFORMS_CONFIG}.${alias}.`;
        const plugin = registry.get('transformation', parsed.string(`${prefix}type`));
        const transformation = plugin.create();
        created.push(transformation);
        const who = `Transform '${alias}' (${plugin.className})`;
        await configureNamed(transformation, pluginProps(raw, prefix, [PREDICATE_KEY, NEGATE_KEY]), prefix, who);

        const predicateAlias = parsed.stringOrNull(`${prefix}${PREDICATE_KEY}`);
        let predicate: TransformStage['predicate'] = null;
        if (predicateAlias !== null && predicateAlias !== '') {
          // Like Connect, each stage gets its own predicate instance: a stateful predicate is not shared.
          const pPrefix = `${PREDICATES_CONFIG}.${predicateAlias}.`;
          const pPlugin = registry.get('predicate', parsed.string(`${pPrefix}type`));
          const instance = pPlugin.create();
          created.push(instance);
          await configureNamed(
            instance,
            pluginProps(raw, pPrefix, []),
            pPrefix,
            `Predicate '${predicateAlias}' (${pPlugin.className})`,
          );
          predicate = { alias: predicateAlias, className: pPlugin.className, instance };
        }
        stages.push({
          alias,
          className: plugin.className,
          transformation,
          predicate,
          negate: parsed.bool(`${prefix}${NEGATE_KEY}`),
        });
      }
    } catch (error) {
      await closeAll(created);
      throw error;
    }
    return new TransformChain<R>(stages);
  }

  /** Validation output for REST validate / `erpstream validate`: never throws for bad values. */
  static validate(config: ConnectorConfigInput, options: BuildChainOptions): ChainValidation {
    return validateChain(config, options.registry);
  }

  /** Runs the record through every stage; null when a stage dropped it. Throws TransformError. */
  apply(record: R): R | null {
    let current: ConnectRecord = record;
    const stages = this.stages;
    for (let i = 0; i < stages.length; i++) {
      const stage = stages[i]!;
      if (stage.predicate !== null) {
        let matches: boolean;
        try {
          matches = stage.predicate.instance.test(current);
        } catch (error) {
          throw new TransformError(stage.alias, stage.predicate.className, error, {
            stage: 'predicate',
            predicateAlias: stage.predicate.alias,
          });
        }
        if (matches === stage.negate) continue;
      }
      let next: ConnectRecord | null;
      try {
        next = stage.transformation.apply(current);
      } catch (error) {
        throw new TransformError(stage.alias, stage.className, error);
      }
      if (next === null || next === undefined) return null;
      current = next;
    }
    return current as R;
  }

  /** Closes every transform and predicate, even when some fail; rethrows the first failure. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await closeAll(
      this.stages.flatMap((s) => (s.predicate ? [s.transformation, s.predicate.instance] : [s.transformation])),
    );
  }
}

async function configureNamed(
  plugin: Transformation | Predicate,
  props: Parameters<Transformation['configure']>[0],
  prefix: string,
  who: string,
): Promise<void> {
  try {
    await plugin.configure(props);
  } catch (error) {
    throw prefixConfigError(error, prefix, who);
  }
}

async function closeAll(plugins: ReadonlyArray<Transformation | Predicate>): Promise<void> {
  let first: unknown;
  for (const p of plugins) {
    try {
      await p.close();
    } catch (error) {
      first ??= error;
    }
  }
  if (first !== undefined) throw first;
}

/** Convenience: validation results for a connector config against the given plugins. */
export function validateChainConfig(config: ConnectorConfigInput, registry: PluginRegistry): ChainValidation {
  return validateChain(config, registry);
}

/** Convenience: build a chain against the given plugins. */
export function buildTransformChain<R extends ConnectRecord = ConnectRecord>(
  config: ConnectorConfigInput,
  registry: PluginRegistry,
): Promise<TransformChain<R>> {
  return TransformChain.build<R>(config, { registry });
}

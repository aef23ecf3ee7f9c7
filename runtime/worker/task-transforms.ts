import type { RecordTransforms, SinkRecord } from '../api/index.js';
import type { PluginRegistry } from '../plugins/registry.js';
import {
  ChainConfigError,
  PREDICATES_CONFIG,
  TRANSFORMS_CONFIG,
  TransformChain,
  analyzeChainConfig,
  chainConfigProblems,
} from '../transforms/index.js';

/**
 * SinkTaskContext.transforms: a chain configured under a plugin's own keys (`delivery.transforms=…`), built by
 * the same builder as the connector-level `transforms`, so classes, aliases, predicates and their validation
 * behave the same. Only the key names differ: every error names the prefixed key the user wrote.
 */

const CHAIN_ROOTS = [TRANSFORMS_CONFIG, PREDICATES_CONFIG];

/** The chain keys under `prefix`, re-keyed to the names the chain builder reads (`transforms…`, `predicates…`). */
function chainKeys(props: Readonly<Record<string, string>>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) {
    if (!k.startsWith(prefix)) continue;
    const rest = k.slice(prefix.length);
    if (CHAIN_ROOTS.some((root) => rest === root || rest.startsWith(`${root}.`))) out[rest] = v;
  }
  return out;
}

/**
 * Puts the prefix back on chain key names in a message. Class names such as `erpstream.transforms.CleanSchema`
 * contain `transforms` too; they are left alone because a dot (or a word character) precedes it there.
 */
function prefixKeyNames(text: string, prefix: string): string {
  return text.replace(/(?<![\w.$/-])(transforms|predicates)(?=[.\s:'",)]|$)/g, (m) => prefix + m);
}

function prefixed(error: ChainConfigError, prefix: string): ChainConfigError {
  return new ChainConfigError(
    error.problems.map((p) => ({ key: prefix + p.key, message: prefixKeyNames(p.message, prefix) })),
    error,
  );
}

export async function buildTaskTransforms(
  registry: PluginRegistry,
  props: Readonly<Record<string, string>>,
  prefix: string,
): Promise<RecordTransforms<SinkRecord>> {
  let chain: TransformChain<SinkRecord>;
  try {
    chain = await TransformChain.build<SinkRecord>(chainKeys(props, prefix), { registry });
  } catch (error) {
    throw error instanceof ChainConfigError ? prefixed(error, prefix) : error;
  }
  return {
    aliases: chain.stages.map((s) => s.alias),
    apply: (record) => chain.apply(record),
    close: () => chain.close(),
  };
}

/** Every problem of the chain under `prefix`, offline (nothing is created), each under its prefixed key. */
export function taskTransformProblems(
  registry: PluginRegistry,
  props: Readonly<Record<string, string>>,
  prefix: string,
): Array<{ key: string; message: string }> {
  return chainConfigProblems(analyzeChainConfig(chainKeys(props, prefix), registry)).map((p) => ({
    key: prefix + p.key,
    message: prefixKeyNames(p.message, prefix),
  }));
}

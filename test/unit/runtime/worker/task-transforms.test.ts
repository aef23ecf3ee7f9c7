import { describe, expect, it } from 'vitest';
import type { ConfigError } from '../../../../runtime/api/index.js';
import { Headers, type SinkRecord } from '../../../../runtime/api/index.js';
import { builtinRegistry } from '../../../../bundle/builtin.js';
import { ChainConfigError, TransformError } from '../../../../runtime/transforms/index.js';
import { buildTaskTransforms } from '../../../../runtime/worker/task-transforms.js';

/** SinkTaskContext.transforms as the worker implements it: a chain under a plugin's own key prefix. */
const registry = builtinRegistry();
const build = (props: Record<string, string>) => buildTaskTransforms(registry, props, 'delivery.');

function record(value: unknown, topic = 'acme.shipments'): SinkRecord {
  return {
    topic,
    kafkaPartition: 0,
    keySchema: null,
    key: 'S1',
    valueSchema: null,
    value,
    timestamp: 0,
    timestampType: 'CreateTime',
    headers: Headers.of({ 'erpstream.version': '7' }),
    kafkaOffset: 0n,
    originalTopic: topic,
    originalKafkaPartition: 0,
    originalKafkaOffset: 0n,
  };
}

const good = {
  // Keys of the sink itself and the connector-level chain are not the delivery chain's.
  'lookup.table': 'erp.shipment',
  transforms: 'other',
  'transforms.other.type': 'NoSuchThing',
  'delivery.transforms': 'clean,internal',
  'delivery.transforms.clean.type': 'CleanSchema',
  'delivery.transforms.clean.strip.prefixes': 'Z_',
  'delivery.transforms.clean.case': 'camel',
  'delivery.transforms.clean.boolean.fields': 'ACTIVE_FLG',
  'delivery.transforms.internal.type': 'Filter',
  'delivery.transforms.internal.predicate': 'isInternal',
  'delivery.predicates': 'isInternal',
  'delivery.predicates.isInternal.type': 'TopicNameMatches',
  'delivery.predicates.isInternal.pattern': '.*\\.internal',
};

describe('buildTaskTransforms (SinkTaskContext.transforms)', () => {
  it('builds the chain from the prefixed keys only, with predicates, like the connector-level chain', async () => {
    const chain = await build(good);
    expect(chain.aliases).toEqual(['clean', 'internal']);
    expect(chain.apply(record({ Z_CUST_CD: 'AC01', ACTIVE_FLG: 'Y' }))?.value).toEqual({
      custCd: 'AC01',
      activeFlg: true,
    });
    expect(chain.apply(record({ Z_CUST_CD: 'AC01' }, 'acme.internal'))).toBeNull();
    await chain.close();
  });

  it('names the prefixed key (so the alias) and suggests the class for an unknown class', async () => {
    const error = await build({ ...good, 'delivery.transforms.clean.type': 'CleenSchema' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainConfigError);
    expect((error as ConfigError).key).toBe('delivery.transforms.clean.type');
    expect((error as Error).message).toMatch(
      /^Invalid value CleenSchema for configuration delivery\.transforms\.clean\.type: Class CleenSchema could not be found\. Did you mean [^\n]*CleanSchema/,
    );
  });

  it("re-keys a transformation's own config error and keeps class names intact", async () => {
    const error = await build({ ...good, 'delivery.transforms.clean.case': 'kebab' }).catch((e: unknown) => e);
    expect((error as ConfigError).key).toBe('delivery.transforms.clean.case');
    expect((error as Error).message).toContain('configuration delivery.transforms.clean.case');
    expect((error as Error).message).not.toContain('erpstream.delivery.');
  });

  it('reports an undeclared predicate and a missing predicate setting, each under its prefixed key', async () => {
    const { ['delivery.predicates.isInternal.pattern']: _p, ...noPattern } = good;
    const error = await build({ ...noPattern, 'delivery.transforms.internal.predicate': 'isTest' }).catch(
      (e: unknown) => e,
    );
    const problems = (error as ChainConfigError).problems;
    expect(problems.map((p) => p.key)).toEqual([
      'delivery.transforms.internal.predicate',
      'delivery.predicates.isInternal.pattern',
    ]);
    expect(problems[0]!.message).toContain(
      "Predicate 'isTest' is not declared; add it to 'delivery.predicates' and set 'delivery.predicates.isTest.type'",
    );
  });

  it('throws a TransformError naming the alias, the class and the field when a record fails', async () => {
    const chain = await build(good);
    const error = (() => {
      try {
        chain.apply(record({ ACTIVE_FLG: 'X' }));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(TransformError);
    expect((error as TransformError).alias).toBe('clean');
    expect((error as TransformError).fieldPath).toBe('ACTIVE_FLG');
    expect((error as Error).message).toMatch(/^Transform 'clean' \(erpstream\.transforms\.CleanSchema\) failed: /);
  });

  it('is an empty chain when the prefix declares no transforms', async () => {
    const chain = await build({ transforms: 'x' });
    expect(chain.aliases).toEqual([]);
    expect(chain.apply(record({ a: 1 }))?.value).toEqual({ a: 1 });
  });
});

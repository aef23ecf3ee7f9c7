import { describe, expect, it } from 'vitest';
import { SchemaBuilder, Schemas, Struct } from '../../../../runtime/api/index.js';
import {
  ChainConfigError,
  TransformChain,
  buildTransformChain,
  validateChainConfig,
} from '../../../../runtime/transforms/index.js';
import { builtinRegistry } from '../../../../bundle/builtin.js';
import { sourceRecord } from './test-plugins.js';

const registry = builtinRegistry();

/** The chain with the real Kafka SMTs and predicates from the built-in bundle. */
describe('TransformChain with the built-in plugins', () => {
  const config = {
    transforms: 'dropTest,rename',
    'transforms.dropTest.type': 'Filter',
    'transforms.dropTest.predicate': 'isTest',
    'transforms.rename.type': 'org.apache.kafka.connect.transforms.ReplaceField$Value',
    'transforms.rename.renames': 'SHPMT_NO:shipmentNo,Z_CUST_CD:customerCode',
    'transforms.rename.exclude': 'IS_DLTD',
    predicates: 'isTest',
    'predicates.isTest.type': 'org.apache.kafka.connect.transforms.predicates.TopicNameMatches',
    'predicates.isTest.pattern': '.*\\.test',
  };

  it('filters by topic and renames struct fields, excluding under its prefix', async () => {
    const chain = await buildTransformChain(config, registry);
    const schema = SchemaBuilder.struct()
      .field('SHPMT_NO', Schemas.STRING)
      .field('Z_CUST_CD', Schemas.STRING)
      .field('IS_DLTD', Schemas.BOOLEAN)
      .build();
    const value = new Struct(schema).put('SHPMT_NO', 'SH1').put('Z_CUST_CD', 'C1').put('IS_DLTD', false);
    const out = chain.apply({ ...sourceRecord('erp.SHPMT', value), valueSchema: schema });
    expect(out?.valueSchema?.fields?.map((f) => f.name)).toEqual(['shipmentNo', 'customerCode']);
    expect((out?.value as Struct).get('shipmentNo')).toBe('SH1');
    expect(chain.apply(sourceRecord('erp.SHPMT.test', { SHPMT_NO: 'x' }))).toBeNull();
    await chain.close();
  });

  it('with negate=true, runs the transform only where the predicate does not match', async () => {
    const chain = await TransformChain.build({ ...config, 'transforms.dropTest.negate': 'true' }, { registry });
    expect(chain.apply(sourceRecord('erp.SHPMT', { SHPMT_NO: 'x' }))).toBeNull();
    expect(chain.apply(sourceRecord('erp.SHPMT.test', { SHPMT_NO: 'x' }))?.value).toEqual({ shipmentNo: 'x' });
  });

  it('names the prefixed key of a bad SMT setting, in build errors and in validation output', async () => {
    const bad = { ...config, 'transforms.rename.renames': 'SHPMT_NO' };
    const error = await TransformChain.build(bad, { registry }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainConfigError);
    expect((error as ChainConfigError).key).toBe('transforms.rename.renames');
    expect((error as Error).message).toContain('transforms.rename.renames');
    const v = validateChainConfig(bad, registry);
    const renames = v.configs.find((c) => c.value.name === 'transforms.rename.renames');
    expect(renames?.definition?.group).toBe('Transforms: rename');
    expect(renames?.value.errors.join()).toContain('transforms.rename.renames');
    expect(v.errorCount).toBe(1);
  });

  it('refuses ReplaceField’s blacklist/whitelist (removed in Connect 4.0) instead of ignoring them', async () => {
    for (const key of ['blacklist', 'whitelist']) {
      const removed = { ...config, [`transforms.rename.${key}`]: 'IS_DLTD' };
      const error = await TransformChain.build(removed, { registry }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChainConfigError);
      expect((error as ChainConfigError).key).toBe(`transforms.rename.${key}`);
      expect((error as Error).message).toContain(key === 'blacklist' ? "use 'exclude'" : "use 'include'");
      const v = validateChainConfig(removed, registry);
      expect(v.errorCount).toBe(1);
    }
  });

  it('KIP-891: transforms/predicates.<alias>.plugin.version accept our version or a range holding it', async () => {
    const { PLUGIN_VERSION } = await import('../../../../transforms/support.js');
    const ok = {
      ...config,
      'transforms.rename.plugin.version': PLUGIN_VERSION,
      'predicates.isTest.plugin.version': '[0.0.1,)',
    };
    await (await TransformChain.build(ok, { registry })).close();
    const v = validateChainConfig(ok, registry);
    expect(v.errorCount).toBe(0);
    const key = v.configs.find((c) => c.value.name === 'transforms.rename.plugin.version');
    expect(key?.definition).toMatchObject({
      group: 'Transforms: rename',
      order_in_group: 1,
      default_value: PLUGIN_VERSION,
    });
    for (const bad of ['99.0.0', '(,0.0.1]', '[1.0', 'x,y']) {
      const wrong = { ...config, 'transforms.rename.plugin.version': bad };
      const error = await TransformChain.build(wrong, { registry }).catch((e: unknown) => e);
      expect(error, bad).toBeInstanceOf(ChainConfigError);
      expect((error as ChainConfigError).key).toBe('transforms.rename.plugin.version');
    }
    const wrong = validateChainConfig({ ...config, 'predicates.isTest.plugin.version': '4.3.2' }, registry);
    // reported on the version key and on the type key, as Connect 4.x reports it
    expect(wrong.errorCount).toBe(2);
    expect(wrong.configs.find((c) => c.value.name === 'predicates.isTest.type')?.value.errors).toHaveLength(1);
    expect(wrong.configs.find((c) => c.value.name === 'predicates.isTest.plugin.version')?.value.errors).toEqual([
      expect.stringMatching(
        /^Plugin org\.apache\.kafka\.connect\.transforms\.predicates\.TopicNameMatches not found that matches the version range \[4\.3\.2,4\.3\.2\], available versions: \[/,
      ),
    ]);
  });

  it('requires the predicate’s own settings under predicates.<alias>.', async () => {
    const { ['predicates.isTest.pattern']: _dropped, ...noPattern } = config;
    const error = await TransformChain.build(noPattern, { registry }).catch((e: unknown) => e);
    expect((error as ChainConfigError).key).toBe('predicates.isTest.pattern');
  });
});

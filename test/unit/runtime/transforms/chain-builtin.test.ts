import { describe, expect, it } from 'vitest';
import { SchemaBuilder, Schemas, Struct } from '../../../../runtime/api/index.js';
import {
  ChainConfigError,
  TransformChain,
  buildTransformChain,
  validateChainConfig,
} from '../../../../runtime/transforms/index.js';
import { sourceRecord } from './test-plugins.js';

/** The chain with the real Kafka SMTs and predicates from the default registry. */
describe('TransformChain with the built-in plugins', () => {
  const config = {
    transforms: 'dropTest,rename',
    'transforms.dropTest.type': 'Filter',
    'transforms.dropTest.predicate': 'isTest',
    'transforms.rename.type': 'org.apache.kafka.connect.transforms.ReplaceField$Value',
    'transforms.rename.renames': 'SHPMT_NO:shipmentNo,Z_CUST_CD:customerCode',
    'transforms.rename.blacklist': 'IS_DLTD',
    predicates: 'isTest',
    'predicates.isTest.type': 'org.apache.kafka.connect.transforms.predicates.TopicNameMatches',
    'predicates.isTest.pattern': '.*\\.test',
  };

  it('filters by topic and renames struct fields, honouring a deprecated key alias under its prefix', async () => {
    const chain = await buildTransformChain(config);
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
    const chain = await TransformChain.build({ ...config, 'transforms.dropTest.negate': 'true' });
    expect(chain.apply(sourceRecord('erp.SHPMT', { SHPMT_NO: 'x' }))).toBeNull();
    expect(chain.apply(sourceRecord('erp.SHPMT.test', { SHPMT_NO: 'x' }))?.value).toEqual({ shipmentNo: 'x' });
  });

  it('names the prefixed key of a bad SMT setting, in build errors and in validation output', async () => {
    const bad = { ...config, 'transforms.rename.renames': 'SHPMT_NO' };
    const error = await TransformChain.build(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainConfigError);
    expect((error as ChainConfigError).key).toBe('transforms.rename.renames');
    expect((error as Error).message).toContain('transforms.rename.renames');
    const v = validateChainConfig(bad);
    const renames = v.configs.find((c) => c.value.name === 'transforms.rename.renames');
    expect(renames?.definition?.group).toBe('Transforms: rename');
    expect(renames?.value.errors.join()).toContain('transforms.rename.renames');
    expect(v.errorCount).toBe(1);
  });

  it('requires the predicate’s own settings under predicates.<alias>.', async () => {
    const { ['predicates.isTest.pattern']: _dropped, ...noPattern } = config;
    const error = await TransformChain.build(noPattern).catch((e: unknown) => e);
    expect((error as ChainConfigError).key).toBe('predicates.isTest.pattern');
  });
});

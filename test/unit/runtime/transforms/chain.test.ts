import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, ErpStreamError } from '../../../../runtime/api/index.js';
import { ChainConfigError, TransformChain, TransformError } from '../../../../runtime/transforms/index.js';
import { closed, sourceRecord, testRegistry } from './test-plugins.js';

const registry = testRegistry();
const build = (config: Record<string, unknown>) => TransformChain.build(config, { registry });

describe('TransformChain.build', () => {
  it('applies transforms in the order of the transforms list, not of the keys', async () => {
    const chain = await build({
      'transforms.b.type': 'AppendTopic',
      'transforms.b.suffix': '-b',
      'transforms.a.type': 'test.transforms.AppendTopic',
      'transforms.a.suffix': '-a',
      transforms: 'b, a',
    });
    expect(chain.stages.map((s) => s.alias)).toEqual(['b', 'a']);
    expect(chain.apply(sourceRecord('t', {}))?.topic).toBe('t-b-a');
  });

  it('passes records through unchanged without transforms', async () => {
    const chain = await build({ name: 'x' });
    const record = sourceRecord('t', { a: 1 });
    expect(chain.apply(record)).toBe(record);
  });

  it('accepts transforms as a JSON list', async () => {
    const chain = await build({
      transforms: ['a'],
      'transforms.a.type': 'AppendTopic',
      'transforms.a.suffix': '!',
    });
    expect(chain.apply(sourceRecord('t', {}))?.topic).toBe('t!');
  });

  it('runs a stage only where its predicate matches, and only where it does not with negate=true', async () => {
    const config = {
      transforms: 'onlyOrders,notOrders',
      'transforms.onlyOrders.type': 'AppendTopic',
      'transforms.onlyOrders.suffix': '.o',
      'transforms.onlyOrders.predicate': 'isOrders',
      'transforms.notOrders.type': 'AppendTopic',
      'transforms.notOrders.suffix': '.n',
      'transforms.notOrders.predicate': 'isOrders',
      'transforms.notOrders.negate': 'true',
      predicates: 'isOrders',
      'predicates.isOrders.type': 'TopicIs',
      'predicates.isOrders.topic': 'orders',
    };
    const chain = await build(config);
    // onlyOrders runs on "orders" → "orders.o"; then notOrders sees "orders.o" (not "orders") and runs.
    expect(chain.apply(sourceRecord('orders', {}))?.topic).toBe('orders.o.n');
    expect(chain.apply(sourceRecord('people', {}))?.topic).toBe('people.n');
  });

  it('returns null when a stage drops the record and runs no later stage', async () => {
    const chain = await build({
      transforms: 'drop,fail',
      'transforms.drop.type': 'Drop',
      'transforms.fail.type': 'Fail',
    });
    expect(chain.apply(sourceRecord('t', {}))).toBeNull();
  });

  it('awaits async configure() before the chain is returned', async () => {
    const chain = await build({ transforms: 's', 'transforms.s.type': 'SlowStart' });
    expect(chain.apply(sourceRecord('t', {}))?.topic).toBe('t.ready');
  });

  it('closes every transform and predicate', async () => {
    closed.length = 0;
    const chain = await build({
      transforms: 'a',
      'transforms.a.type': 'AppendTopic',
      'transforms.a.suffix': '-x',
      'transforms.a.predicate': 'p',
      predicates: 'p',
      'predicates.p.type': 'TopicIs',
      'predicates.p.topic': 'orders',
    });
    await chain.close();
    expect(closed.sort()).toEqual(['AppendTopic-x', 'TopicIs:orders']);
  });
});

describe('chain config errors', () => {
  async function problem(config: Record<string, unknown>): Promise<ChainConfigError> {
    const error = await build(config).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ChainConfigError);
    expect(error).toBeInstanceOf(ConfigError);
    return error as ChainConfigError;
  }

  it('names the alias and the class when the class is unknown, and lists known ones', async () => {
    const e = await problem({ transforms: 't1', 'transforms.t1.type': 'Foo' });
    expect(e.message).toContain(
      'Invalid value Foo for configuration transforms.t1.type: Class Foo could not be found.',
    );
    expect(e.message).toContain('AppendTopic');
    expect(e.key).toBe('transforms.t1.type');
  });

  it('suggests the closest class for a typo and points at predicates for a predicate class', async () => {
    expect((await problem({ transforms: 't', 'transforms.t.type': 'AppendTopik' })).message).toContain('Did you mean');
    expect((await problem({ transforms: 't', 'transforms.t.type': 'TopicIs' })).message).toContain(
      'TopicIs is a predicate',
    );
  });

  it('requires a type for every listed alias', async () => {
    const e = await problem({ transforms: 'a' });
    expect(e.message).toContain('"transforms.a.type"');
  });

  it('names the prefixed key when a transform setting is invalid or missing', async () => {
    const bad = await problem({ transforms: 's', 'transforms.s.type': 'Strict', 'transforms.s.level': 'high' });
    expect(bad.message).toContain('Invalid value high for configuration transforms.s.level');
    expect(bad.key).toBe('transforms.s.level');
    const missing = await problem({ transforms: 'a', 'transforms.a.type': 'AppendTopic' });
    expect(missing.message).toContain('"transforms.a.suffix"');
  });

  it('names the prefixed key when configure() rejects a setting', async () => {
    const e = await problem({ transforms: 's', 'transforms.s.type': 'Strict', 'transforms.s.level': '7' });
    expect(e.message).toBe('Invalid value 7 for configuration transforms.s.level: Level must be at most 3');
    expect(e.key).toBe('transforms.s.level');
  });

  it('rejects a predicate that is referenced but not declared, naming it', async () => {
    const e = await problem({ transforms: 'a', 'transforms.a.type': 'Drop', 'transforms.a.predicate': 'isOrders' });
    expect(e.key).toBe('transforms.a.predicate');
    expect(e.message).toContain("Predicate 'isOrders' is not declared");
  });

  it('rejects negate without a predicate with Connect’s message', async () => {
    const e = await problem({ transforms: 'a', 'transforms.a.type': 'Drop', 'transforms.a.negate': 'true' });
    expect(e.message).toContain(
      "Config 'transforms.a.negate' was provided but there is no config 'transforms.a.predicate' defining a predicate to be negated.",
    );
  });

  it('rejects duplicate aliases and unknown predicate classes', async () => {
    expect((await problem({ transforms: 'a,a', 'transforms.a.type': 'Drop' })).message).toContain(
      'Duplicate alias provided.',
    );
    const e = await problem({ predicates: 'p', 'predicates.p.type': 'Nope' });
    expect(e.message).toContain(
      'Invalid value Nope for configuration predicates.p.type: Class Nope could not be found.',
    );
  });

  it('reports every problem at once', async () => {
    const e = await problem({
      transforms: 'a,b',
      'transforms.a.type': 'Foo',
      'transforms.b.type': 'AppendTopic',
    });
    expect(e.problems.map((p) => p.key)).toEqual(['transforms.a.type', 'transforms.b.suffix']);
  });
});

describe('TransformError', () => {
  it('names the alias, the class and the field, and keeps the cause', async () => {
    const chain = await build({ transforms: 'cast', 'transforms.cast.type': 'Fail' });
    let error: unknown;
    try {
      chain.apply(sourceRecord('t', {}));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TransformError);
    expect(error).toBeInstanceOf(ErpStreamError);
    const te = error as TransformError;
    expect(te.code).toBe('ERPSTREAM_TRANSFORM');
    expect(te.alias).toBe('cast');
    expect(te.className).toBe('test.transforms.Fail');
    expect(te.fieldPath).toBe('order.qty');
    expect(te.cause).toBeInstanceOf(DataError);
    expect(te.message).toBe(
      `Transform 'cast' (test.transforms.Fail) failed: Cannot cast "abc" to int32 for field: "order.qty"`,
    );
    expect(te.retriable).toBe(false);
  });

  it('adds the field path to the message when the cause does not mention it', () => {
    const te = new TransformError('x', 'C', new DataError('bad value', 'a.b'));
    expect(te.message).toBe("Transform 'x' (C) failed: bad value [field: a.b]");
  });
});

describe('TransformChain.validate', () => {
  it('returns Connect ConfigInfos with per-alias groups and prefixed keys', () => {
    const v = TransformChain.validate(
      {
        transforms: 'a,b',
        'transforms.a.type': 'AppendTopic',
        'transforms.a.suffix': '-a',
        'transforms.b.type': 'Foo',
        predicates: 'p',
        'predicates.p.type': 'TopicIs',
      },
      { registry },
    );
    expect(v.groups).toEqual(['Transforms', 'Predicates', 'Transforms: a', 'Transforms: b', 'Predicates: p']);
    const byName = new Map(v.configs.map((c) => [c.value.name, c]));
    expect(byName.get('transforms.a.suffix')?.definition?.group).toBe('Transforms: a');
    expect(byName.get('transforms.a.type')?.definition?.display_name).toBe('Transformation type for a');
    expect(byName.get('transforms.a.type')?.value.recommended_values).toContain('test.transforms.AppendTopic');
    expect(byName.get('transforms.a.negate')?.value.value).toBe('false');
    expect(byName.get('transforms.b.type')?.value.errors[0]).toContain('Class Foo could not be found.');
    expect(byName.get('predicates.p.topic')?.value.errors[0]).toContain('"predicates.p.topic"');
    expect(v.errorCount).toBe(2);
  });
});

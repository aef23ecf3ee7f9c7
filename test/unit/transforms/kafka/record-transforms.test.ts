import { describe, expect, it } from 'vitest';
import type { PredicatePlugin, TransformationPlugin } from '../../../../runtime/api/index.js';
import { predicatePlugins, recordTransformPlugins } from '../../../../transforms/kafka/record-transforms.js';

/** The props an example gives one named transform or predicate (Connect's `transforms.<name>.` prefix). */
function propsOf(example: Readonly<Record<string, string>>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(example)) {
    const key = k.slice(prefix.length);
    if (k.startsWith(prefix) && !['type', 'predicate', 'negate'].includes(key)) out[key] = v;
  }
  return out;
}

describe('record-level SMT and predicate barrel', () => {
  it('exports every record-level SMT variant by its Connect class name', () => {
    expect(recordTransformPlugins.map((p) => p.className.replace('org.apache.kafka.connect.transforms.', ''))).toEqual([
      'DropHeaders',
      'Filter',
      'HeaderFrom$Key',
      'HeaderFrom$Value',
      'InsertHeader',
      'RegexRouter',
      'SetSchemaMetadata$Key',
      'SetSchemaMetadata$Value',
      'TimestampConverter$Key',
      'TimestampConverter$Value',
      'TimestampRouter',
    ]);
  });

  it.each(recordTransformPlugins.map((p) => [p.className, p] as [string, TransformationPlugin]))(
    '%s: its example configures',
    async (_name, plugin) => {
      const example = plugin.example!;
      const alias = example.transforms!;
      expect(example[`transforms.${alias}.type`]).toBe(plugin.className.replace('$Key', '$Value'));
      const t = plugin.create();
      await t.configure(propsOf(example, `transforms.${alias}.`));
    },
  );

  it.each(predicatePlugins.map((p) => [p.className, p] as [string, PredicatePlugin]))(
    '%s: its example configures',
    async (_name, plugin) => {
      const example = plugin.example!;
      const alias = example.predicates!;
      expect(example[`predicates.${alias}.type`]).toBe(plugin.className);
      await plugin.create().configure(propsOf(example, `predicates.${alias}.`));
    },
  );
});

import { describe, expect, it } from 'vitest';
import { ConfigDef, configDefToMarkdown } from '../../../../runtime/api/index.js';
import { fieldTransformPlugins } from '../../../../transforms/kafka/field-transforms.js';

const NAMES = ['Cast', 'ExtractField', 'Flatten', 'HoistField', 'InsertField', 'MaskField', 'ReplaceField'];

describe('field-level SMT barrel', () => {
  it('ships every $Key/$Value variant and ValueToKey under Connect class names', () => {
    const expected = [
      ...NAMES.flatMap((n) => [
        `org.apache.kafka.connect.transforms.${n}$Key`,
        `org.apache.kafka.connect.transforms.${n}$Value`,
      ]),
      'org.apache.kafka.connect.transforms.ValueToKey',
    ];
    expect(fieldTransformPlugins.map((p) => p.className).sort()).toEqual(expected.sort());
  });

  it('gives only ValueToKey a simple-name alias, as Connect does', () => {
    const aliased = fieldTransformPlugins.filter((p) => (p.aliases ?? []).length > 0);
    expect(aliased.map((p) => [p.className, p.aliases])).toEqual([
      ['org.apache.kafka.connect.transforms.ValueToKey', ['ValueToKey']],
    ]);
  });

  it('documents each plugin with a summary, a config spec and an example whose type is the plugin', () => {
    for (const p of fieldTransformPlugins) {
      expect(p.type).toBe('transformation');
      expect(p.config).toBeInstanceOf(ConfigDef);
      expect(p.summary.length).toBeGreaterThan(10);
      const type = Object.entries(p.example ?? {}).find(([k]) => k.endsWith('.type'))?.[1];
      expect(type?.replace(/\$(Key|Value)$/, ''), p.className).toBe(p.className.replace(/\$(Key|Value)$/, ''));
      expect(configDefToMarkdown(p.config)).toContain('| key | type | default |');
    }
  });

  it('creates independent instances', () => {
    const p = fieldTransformPlugins.find((x) => x.className.endsWith('HoistField$Value'))!;
    const a = p.create();
    const b = p.create();
    void a.configure({ field: 'a' });
    void b.configure({ field: 'b' });
    const rec = {
      topic: 't',
      kafkaPartition: 0,
      keySchema: null,
      key: null,
      valueSchema: null,
      value: 1,
      timestamp: null,
      headers: [],
    };
    expect(a.apply(rec)!.value).toEqual({ a: 1 });
    expect(b.apply(rec)!.value).toEqual({ b: 1 });
  });
});

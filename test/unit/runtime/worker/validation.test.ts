import { describe, expect, it } from 'vitest';
import { defaultPluginRegistry } from '../../../../runtime/plugins/registry.js';
import { validateConnectorConfig } from '../../../../runtime/worker/validation.js';

const lookupSink = {
  'connector.class': 'erpstream.LookupSinkConnector',
  name: 'docs',
  topics: 'erp.document',
  'lookup.connection.url': 'postgresql://127.0.0.1:5432/erp',
  'lookup.table': 'erp.document',
  'lookup.key.columns': 'document_id',
  'entity.name': 'document',
  'destination.type': 'kafka',
  'destination.topic': 'docs',
};

async function errorsOf(config: Record<string, string>): Promise<Record<string, string[]>> {
  const { infos } = await validateConnectorConfig(defaultPluginRegistry(), config);
  const out: Record<string, string[]> = {};
  for (const c of infos.configs) if (c.value.errors.length > 0) out[c.value.name] = c.value.errors;
  expect(infos.error_count).toBe(Object.values(out).flat().length);
  return out;
}

describe('connector validation (POST /connectors, PUT …/config/validate)', () => {
  it("checks a sink's own transform chains (the lookup sink's delivery.transforms) under the keys the user wrote", async () => {
    const errors = await errorsOf({
      ...lookupSink,
      'delivery.transforms': 'clean,tag',
      'delivery.transforms.clean.type': 'erpstream.transforms.NoSuchTransform',
      'delivery.transforms.tag.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
      'delivery.transforms.tag.static.field': 'source',
      'delivery.transforms.tag.static.value': 'erp',
      'delivery.transforms.tag.predicate': 'missing',
    });
    expect(Object.keys(errors).sort()).toEqual(['delivery.transforms.clean.type', 'delivery.transforms.tag.predicate']);
    expect(errors['delivery.transforms.clean.type']!.join('\n')).toContain('erpstream.transforms.NoSuchTransform');
    expect(errors['delivery.transforms.tag.predicate']!.join('\n')).toContain('missing');
  });

  it('accepts a valid delivery chain, and leaves the connector-level transforms to their own check', async () => {
    expect(
      await errorsOf({
        ...lookupSink,
        'delivery.transforms': 'tag',
        'delivery.transforms.tag.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
        'delivery.transforms.tag.static.field': 'source',
        'delivery.transforms.tag.static.value': 'erp',
      }),
    ).toEqual({});
    const errors = await errorsOf({ ...lookupSink, transforms: 'x', 'transforms.x.type': 'NoSuchTransform' });
    expect(Object.keys(errors)).toEqual(['transforms.x.type']);
  });
});

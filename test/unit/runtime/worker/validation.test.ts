import { describe, expect, it } from 'vitest';
import { ConfigTransformer, EnvVarConfigProvider } from '../../../../runtime/config-providers/index.js';
import { builtinRegistry } from '../../../../bundle/builtin.js';
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
  const { infos } = await validateConnectorConfig(builtinRegistry(), config);
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

describe('typos and unresolved placeholders (what Connect lets pass silently)', () => {
  const erpSource = {
    'connector.class': 'erpstream.ErpSourceConnector',
    name: 'erp',
    'connection.url': 'postgresql://127.0.0.1:5432/erp',
    'topic.prefix': 'erp',
    'change.table': 'erp.change_log',
  };

  it('lists each unknown key without an error, with the declared key it was meant to be', async () => {
    const { infos } = await validateConnectorConfig(builtinRegistry(), {
      ...erpSource,
      'tables.include.list': 'erp.shipment',
      'pol.interval.ms': '5',
      transforms: 'drop',
      'transforms.drop.type': 'org.apache.kafka.connect.transforms.Filter',
      'producer.override.linger.ms': '5',
      'erp.password.backup': 'hunter2',
    });
    const unknown = infos.configs.filter((c) => c.definition === null && c.value.errors.length === 0);
    expect(unknown.map((c) => [c.value.name, c.value.recommended_values])).toEqual([
      ['tables.include.list', ['table.include.list']],
      ['pol.interval.ms', ['poll.interval.ms']],
      ['erp.password.backup', []],
    ]);
    // Unknown keys add no error (Connect clients see the same verdict), and a secret-looking one is not echoed.
    const baseline = await validateConnectorConfig(builtinRegistry(), erpSource);
    expect(infos.error_count).toBe(baseline.infos.error_count);
    expect(JSON.stringify(infos)).not.toContain('hunter2');
  });

  it('lists a missing key once even when the connector repeats the ConfigDef (the conection.url case)', async () => {
    const { 'connection.url': _url, ...rest } = erpSource;
    const errors = await errorsOf({ ...rest, 'conection.url': 'postgresql://x/y' });
    expect(errors['connection.url']).toEqual([
      'Missing required configuration "connection.url" which has no default value.',
    ]);
  });

  it('names a placeholder the worker cannot resolve on its key, and nothing else about that key', async () => {
    const transformer = new ConfigTransformer(
      new Map([['env', new EnvVarConfigProvider({ ERP_DB_PASSWORD: 'pw-9' })]]),
    );
    const { infos } = await validateConnectorConfig(
      builtinRegistry(),
      { ...erpSource, 'connection.url': '${env:ERP_DB_URL}', 'connection.password': '${env:ERP_DB_PASSWORD}' },
      { transformer },
    );
    const url = infos.configs.find((c) => c.value.name === 'connection.url')!.value;
    expect(url.errors).toEqual(["`${env:ERP_DB_URL}` is not set in the worker's environment"]);
    expect(url.value).toBe('${env:ERP_DB_URL}');
    expect(infos.error_count).toBe(1);
    expect(JSON.stringify(infos)).not.toContain('pw-9');
  });
});

describe('keys the worker reads when it creates topics (a 400 naming the key, not a task that fails later)', () => {
  const fileSource = { name: 'src', 'connector.class': 'FileStreamSource', topic: 'out' };
  const fileSink = { name: 'snk', 'connector.class': 'FileStreamSink', topics: 'in' };

  it.each([
    ['topic.creation.default.partitions', 'abc', 'Not a number of type INT'],
    ['topic.creation.default.partitions', '0', 'Number of partitions must be positive'],
    ['topic.creation.default.replication.factor', '1.5', 'Not a number of type INT'],
    ['topic.creation.default.replication.factor', '-3', 'Replication factor must be positive'],
  ])('%s=%j', async (key, value, why) => {
    for (const base of [fileSource, fileSink]) {
      const errors = await errorsOf({ ...base, [key]: value });
      expect(Object.keys(errors)).toEqual([key]);
      expect(errors[key]!.join('\n')).toContain(`Invalid value ${value} for configuration ${key}: ${why}`);
    }
  });

  it('accepts positive counts and -1 (the broker default)', async () => {
    const counts = { 'topic.creation.default.partitions': ' 6 ', 'topic.creation.default.replication.factor': '-1' };
    expect(await errorsOf({ ...fileSource, ...counts })).toEqual({});
  });

  it.each([
    ['errors.deadletterqueue.topic.name', 'dlq topic!', 'may only contain'],
    ['errors.deadletterqueue.topic.name', '..', 'cannot be'],
    ['errors.deadletterqueue.topic.name', 'x'.repeat(250), 'longer than 249'],
    ['errors.deadletterqueue.topic.replication.factor', '0', 'Replication factor must be positive'],
  ])('%s=%j', async (key, value, why) => {
    for (const base of [fileSource, fileSink]) {
      const errors = await errorsOf({ ...base, 'errors.deadletterqueue.topic.name': 'dlq', [key]: value });
      expect(Object.keys(errors)).toEqual([key]);
      expect(errors[key]!.join('\n')).toContain(`for configuration ${key}`);
      expect(errors[key]!.join('\n')).toContain(why);
    }
  });

  it('accepts a legal DLQ topic, no DLQ (empty or blank), and replication factor -1', async () => {
    for (const name of ['erp.dlq_v1-x', '', '  ']) {
      expect(
        await errorsOf({
          ...fileSink,
          'errors.deadletterqueue.topic.name': name,
          'errors.deadletterqueue.topic.replication.factor': '-1',
        }),
      ).toEqual({});
    }
  });
});

describe("a sink's topics", () => {
  const fileSink = { name: 'snk', 'connector.class': 'FileStreamSink' };

  it('a list of only empty entries names no topic: the sink would subscribe to nothing', async () => {
    for (const topics of [',', ' , ', ',,']) {
      const errors = await errorsOf({ ...fileSink, topics });
      expect(errors.topics).toEqual(['Must configure one of topics or topics.regex']);
    }
  });

  it('a topic name Kafka refuses is named under topics', async () => {
    const errors = await errorsOf({ ...fileSink, topics: 'orders, bad name!' });
    expect(errors.topics!.join('\n')).toContain('Invalid value orders, bad name! for configuration topics');
    expect(errors.topics!.join('\n')).toContain('bad name!');
  });

  it('legal names, empty entries beside them, and a regex alone pass', async () => {
    expect(await errorsOf({ ...fileSink, topics: 'erp.orders_v1-x,,b' })).toEqual({});
    expect(await errorsOf({ ...fileSink, 'topics.regex': 'erp\\..*' })).toEqual({});
  });
});

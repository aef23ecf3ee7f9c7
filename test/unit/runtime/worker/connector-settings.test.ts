import { describe, expect, it } from 'vitest';
import { ConfigError, type ParsedConfig } from '../../../../runtime/api/index.js';
import { DEFAULT_OUTAGE_WAIT_MS } from '../../../../runtime/errors/outage.js';
import {
  consumerOverrideChecks,
  sinkConnectorConfigDef,
  sourceConnectorConfigDef,
} from '../../../../runtime/worker/connector-config.js';
import {
  type SinkConnectorSettings,
  type SourceConnectorSettings,
  connectorSettings,
  converterSettings,
  deadLetterQueueTopic,
  errorHandlingSettings,
  sinkConsumerGroupId,
  sinkSubscription,
  taskLimits,
} from '../../../../runtime/worker/connector-settings.js';

/**
 * The typed settings must equal what validation accepted: each case is run through the validating spec (the one
 * REST validate uses) and through the settings parser, and both must agree, or both refuse it.
 */
const SOURCE = { name: 'src', 'connector.class': 'FileStreamSource' };
const SINK = { name: 'snk', 'connector.class': 'FileStreamSink', topics: 'in' };

function validated(kind: 'source' | 'sink', config: Record<string, string>): ParsedConfig {
  const def = kind === 'source' ? sourceConnectorConfigDef() : sinkConnectorConfigDef();
  const errors = [...def.validateAll(config).values()].flatMap((c) => c.errors);
  expect(errors, 'validation accepts the config').toEqual([]);
  return def.parse(config);
}
const source = (extra: Record<string, string>) =>
  connectorSettings('source', 'src', { ...SOURCE, ...extra }) as SourceConnectorSettings;
const sink = (extra: Record<string, string>) =>
  connectorSettings('sink', 'snk', { ...SINK, ...extra }) as SinkConnectorSettings;

const BOOLEAN_SPELLINGS: Array<[string, boolean]> = [
  ['true', true],
  ['TRUE', true],
  ['True', true],
  [' true ', true],
  ['false', false],
  ['FALSE', false],
  ['False ', false],
];

describe('connector settings: errors.*', () => {
  it('defaults are the spec defaults', () => {
    const v = validated('source', SOURCE);
    expect(source({}).errors).toEqual({
      retryTimeoutMs: v.int('errors.retry.timeout'),
      retryDelayMaxMs: v.int('errors.retry.delay.max.ms'),
      tolerance: v.string('errors.tolerance'),
      logEnable: v.bool('errors.log.enable'),
      logIncludeMessages: v.bool('errors.log.include.messages'),
      outageWaitMs: DEFAULT_OUTAGE_WAIT_MS,
    });
    expect(source({}).errors).toMatchObject({ retryTimeoutMs: 0, retryDelayMaxMs: 60000, tolerance: 'none' });
    expect(errorHandlingSettings()).toEqual(source({}).errors);
  });

  for (const key of ['errors.log.enable', 'errors.log.include.messages'] as const) {
    it.each(BOOLEAN_SPELLINGS)(`${key}=%j is read as validation reads it (%s)`, (raw, expected) => {
      const v = validated('sink', { ...SINK, [key]: raw });
      expect(v.bool(key)).toBe(expected);
      const e = sink({ [key]: raw }).errors;
      expect(key === 'errors.log.enable' ? e.logEnable : e.logIncludeMessages).toBe(expected);
    });
  }

  it('numbers and tolerance are trimmed as validation trims them', () => {
    const raw = { 'errors.retry.timeout': ' -1 ', 'errors.retry.delay.max.ms': '250 ', 'errors.tolerance': ' all ' };
    const v = validated('source', { ...SOURCE, ...raw });
    const e = source(raw).errors;
    expect([e.retryTimeoutMs, e.retryDelayMaxMs, e.tolerance]).toEqual([
      v.int('errors.retry.timeout'),
      v.int('errors.retry.delay.max.ms'),
      v.string('errors.tolerance'),
    ]);
    expect(e.tolerance).toBe('all');
  });

  it('a value validation refuses is refused, naming the key, not read as a default', () => {
    const cases: Array<[string, string]> = [
      ['errors.log.enable', 'yes'],
      ['errors.tolerance', 'ALL'],
      ['errors.retry.timeout', '1s'],
    ];
    for (const [key, value] of cases) {
      const bad = { [key]: value };
      expect(
        sourceConnectorConfigDef()
          .validateAll({ ...SOURCE, ...bad })
          .get(key)?.errors,
      ).not.toEqual([]);
      const error = (() => {
        try {
          source(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(key);
    }
  });

  it('outage.wait.timeout.ms: the connector wins, else the worker, else the default', () => {
    expect(source({ 'outage.wait.timeout.ms': ' -1' }).errors.outageWaitMs).toBe(-1);
    expect(errorHandlingSettings({}, { 'outage.wait.timeout.ms': '1000' }).outageWaitMs).toBe(1000);
    expect(
      errorHandlingSettings({ 'outage.wait.timeout.ms': '5' }, { 'outage.wait.timeout.ms': '1000' }).outageWaitMs,
    ).toBe(5);
    expect(errorHandlingSettings({}).outageWaitMs).toBe(DEFAULT_OUTAGE_WAIT_MS);
  });
});

describe('connector settings: dead letter queue', () => {
  it('none by default, or for a blank name', () => {
    expect(sink({}).deadLetterQueue).toBeNull();
    expect(sink({ 'errors.deadletterqueue.topic.name': '   ' }).deadLetterQueue).toBeNull();
    expect(deadLetterQueueTopic({ 'errors.deadletterqueue.topic.name': ' ' })).toBeNull();
  });

  it('a stored placeholder DLQ name is read as written (the console reads stored configs), a resolved bad one refused', () => {
    const placeholder = '${file:/etc/erpstream/dlq.properties:topic}';
    expect(deadLetterQueueTopic({ 'errors.deadletterqueue.topic.name': placeholder })).toBe(placeholder);
    expect(() => sink({ 'errors.deadletterqueue.topic.name': 'a b' })).toThrow(
      'Invalid value a b for configuration errors.deadletterqueue.topic.name',
    );
  });

  it.each(BOOLEAN_SPELLINGS)('context.headers.enable=%j → %s; name and replication factor as validated', (raw, on) => {
    const config = {
      'errors.deadletterqueue.topic.name': ' dlq ',
      'errors.deadletterqueue.topic.replication.factor': ' 2',
      'errors.deadletterqueue.context.headers.enable': raw,
    };
    const v = validated('sink', { ...SINK, ...config });
    expect(sink(config).deadLetterQueue).toEqual({
      topic: v.string('errors.deadletterqueue.topic.name'),
      replicationFactor: v.int('errors.deadletterqueue.topic.replication.factor'),
      contextHeaders: on,
    });
    expect(deadLetterQueueTopic(config)).toBe('dlq');
  });

  it('the replication factor defaults to the spec default (3)', () => {
    expect(source({ 'errors.deadletterqueue.topic.name': 'd' }).deadLetterQueue?.replicationFactor).toBe(3);
  });
});

describe('connector settings: converters', () => {
  it("the connector's own class (trimmed) with its sub-config, else null for the worker default", () => {
    const config = {
      'key.converter': ' org.apache.kafka.connect.storage.StringConverter ',
      'value.converter': '',
      'value.converter.schemas.enable': 'false',
      'key.converter.encoding': 'UTF-8',
    };
    const v = validated('source', { ...SOURCE, ...config });
    const c = source(config).converters;
    expect(c.key).toEqual({ className: v.string('key.converter'), props: { encoding: 'UTF-8' } });
    expect(c.value).toEqual({ className: null, props: { 'schemas.enable': 'false' } });
    expect(c.header).toEqual({ className: null, props: {} });
    expect(converterSettings(config)).toEqual(c);
  });
});

describe('connector settings: transforms and predicates', () => {
  it('the alias lists as validation splits them', () => {
    const config = { transforms: ' a , b', predicates: 'p ' };
    const v = validated('sink', {
      ...SINK,
      ...config,
      'transforms.a.type': 'x',
      'transforms.b.type': 'y',
      'predicates.p.type': 'z',
    });
    expect(sink(config).transforms).toEqual(v.list('transforms'));
    expect(sink(config).transforms).toEqual(['a', 'b']);
    expect(sink(config).predicates).toEqual(['p']);
    expect(sink({}).transforms).toEqual([]);
  });
});

describe('connector settings: sink topics', () => {
  it('topics as a trimmed list (empty entries skipped), topics.regex trimmed or null', () => {
    const v = validated('sink', { ...SINK, topics: ' a, b ,c ' });
    expect(sink({ topics: ' a, b ,c ' }).topics).toEqual(v.list('topics'));
    expect(sink({ topics: 'a,,b' }).topics).toEqual(['a', 'b']);
    expect(sink({}).topicsRegex).toBeNull();
    expect(sink({ topics: '', 'topics.regex': ' orders\\..* ' }).topicsRegex).toBe('orders\\..*');
    expect(sinkSubscription({ 'topics.regex': 'x.*' })).toEqual({ topics: [], topicsRegex: 'x.*' });
  });

  it('an invalid regex is refused as validation refuses it', () => {
    expect(() => sink({ topics: '', 'topics.regex': '(' })).toThrow(/topics\.regex/);
  });

  it('the consumer group: the override, else connect-<name>', () => {
    expect(sink({}).consumerGroupId).toBe('connect-snk');
    expect(sink({ 'consumer.override.group.id': 'g1' }).consumerGroupId).toBe('g1');
    expect(sinkConsumerGroupId('x', {})).toBe('connect-x');
  });
});

describe('connector settings: exactly-once and transactions (source)', () => {
  it('defaults: requested, poll, interval from the worker', () => {
    const v = validated('source', SOURCE);
    const s = source({});
    expect([s.exactlyOnceSupport, s.transactionBoundary, s.transactionBoundaryIntervalMs]).toEqual([
      v.string('exactly.once.support'),
      v.string('transaction.boundary'),
      v.intOrNull('transaction.boundary.interval.ms'),
    ]);
    expect(s.transactionBoundaryIntervalMs).toBeNull();
  });

  it.each(['interval', 'INTERVAL', ' Interval '])('transaction.boundary=%j is the interval boundary', (raw) => {
    validated('source', { ...SOURCE, 'transaction.boundary': raw, 'exactly.once.support': 'REQUIRED' });
    const s = source({
      'transaction.boundary': raw,
      'transaction.boundary.interval.ms': ' 500',
      'exactly.once.support': 'REQUIRED',
    });
    expect(s.transactionBoundary).toBe('interval');
    expect(s.transactionBoundaryIntervalMs).toBe(500);
    expect(s.exactlyOnceSupport).toBe('required');
  });

  it('an unknown boundary is refused as validation refuses it (not silently poll)', () => {
    expect(() => source({ 'transaction.boundary': 'batch' })).toThrow(ConfigError);
  });
});

describe('connector settings: topic creation and task limits', () => {
  it.each([
    ['topic.creation.default.partitions', 'abc'],
    ['topic.creation.default.partitions', '0'],
    ['topic.creation.default.partitions', '1.5'],
    ['topic.creation.default.partitions', '-2'],
    ['topic.creation.default.replication.factor', '0'],
    ['topic.creation.default.replication.factor', '1e3'],
  ])('%s=%j is refused naming the key and value, never read as 1', (key, raw) => {
    for (const settings of [() => source({ [key]: raw }), () => sink({ [key]: raw })]) {
      expect(settings).toThrow(ConfigError);
      expect(settings).toThrow(`Invalid value ${raw} for configuration ${key}`);
    }
  });

  it('topic.creation.default.* counts; unset is 1, -1 (the broker default) is passed on', () => {
    expect(source({}).topicCreation).toEqual({ groups: [], defaultPartitions: 1, defaultReplicationFactor: 1 });
    const s = source({
      'topic.creation.groups': 'g1, g2',
      'topic.creation.default.partitions': ' 6 ',
      'topic.creation.default.replication.factor': '-1',
    });
    expect(s.topicCreation).toEqual({ groups: ['g1', 'g2'], defaultPartitions: 6, defaultReplicationFactor: -1 });
    expect(source({ 'topic.creation.default.partitions': '-1' }).topicCreation.defaultPartitions).toBe(-1);
  });

  it.each(BOOLEAN_SPELLINGS)('tasks.max.enforce=%j → %s', (raw, enforce) => {
    const v = validated('source', { ...SOURCE, 'tasks.max': ' 3', 'tasks.max.enforce': raw });
    expect(taskLimits({ 'tasks.max': ' 3', 'tasks.max.enforce': raw })).toEqual({
      tasksMax: v.int('tasks.max'),
      enforce,
    });
  });

  it('task limits default to 1, enforced', () => {
    expect(taskLimits({})).toEqual({ tasksMax: 1, enforce: true });
  });
});

describe("connector settings: a sink consumer's fetch overrides (consumer.override.*)", () => {
  it("reads the fetch sizes a sink task's consumer uses; none set, the client's defaults", () => {
    expect(sink({}).consumerFetch).toEqual({});
    const s = sink({
      'consumer.override.max.partition.fetch.bytes': ' 8388608 ',
      'consumer.override.fetch.max.bytes': '52428800',
      'consumer.override.fetch.min.bytes': '0',
      'consumer.override.fetch.max.wait.ms': '100',
    });
    expect(s.consumerFetch).toEqual({
      maxBytesPerPartition: 8_388_608,
      maxBytes: 52_428_800,
      minBytes: 0,
      maxWaitTimeInMs: 100,
    });
  });

  it.each([
    ['consumer.override.max.partition.fetch.bytes', '0'],
    ['consumer.override.max.partition.fetch.bytes', '1MB'],
    ['consumer.override.fetch.max.bytes', '-1'],
    ['consumer.override.fetch.min.bytes', '1.5'],
    ['consumer.override.fetch.max.wait.ms', '-5'],
    ['consumer.override.max.poll.records', '0'],
    ['consumer.override.session.timeout.ms', 'ten'],
    ['consumer.override.heartbeat.interval.ms', '10000'],
    ['consumer.override.isolation.level', 'READ-COMMITTED'],
    ['consumer.override.auto.offset.reset', 'none'],
    ['consumer.override.auto.offset.reset', 'smallest'],
  ])('%s=%j is refused by validation and by the settings, naming the key', async (key, raw) => {
    expect(() => sink({ [key]: raw })).toThrow(ConfigError);
    expect(() => sink({ [key]: raw })).toThrow(key);
    const checks = consumerOverrideChecks({ ...SINK, [key]: raw });
    expect(checks.map((c) => c.name)).toEqual([key]);
    expect(checks[0]!.errors[0]).toContain(raw);
  });
});

describe("connector settings: a sink consumer's group and poll overrides (consumer.override.*)", () => {
  it('auto.offset.reset, isolation.level, session and heartbeat, max.poll.records: what Connect users set', () => {
    const s = sink({
      'consumer.override.auto.offset.reset': ' Latest',
      'consumer.override.isolation.level': 'read_uncommitted',
      'consumer.override.session.timeout.ms': '45000',
      'consumer.override.heartbeat.interval.ms': '3000',
      'consumer.override.max.poll.records': '500',
    });
    expect(s.consumerFetch).toEqual({
      fromBeginning: false,
      readUncommitted: true,
      sessionTimeoutMs: 45_000,
      heartbeatIntervalMs: 3000,
      maxPollRecords: 500,
    });
    expect(sink({ 'consumer.override.auto.offset.reset': 'earliest' }).consumerFetch).toEqual({ fromBeginning: true });
  });

  it('a heartbeat not below the session timeout is refused, naming the heartbeat key and the timeout', () => {
    const bad = {
      'consumer.override.session.timeout.ms': '6000',
      'consumer.override.heartbeat.interval.ms': '6000',
    };
    expect(() => sink(bad)).toThrow(/heartbeat\.interval\.ms.*lower than the session timeout \(6000 ms/);
    expect(consumerOverrideChecks({ ...SINK, ...bad }).map((c) => c.name)).toEqual([
      'consumer.override.heartbeat.interval.ms',
    ]);
  });
});

describe('connector settings are frozen', () => {
  it('nothing downstream can change what was parsed', () => {
    const s = sink({ 'key.converter': 'org.apache.kafka.connect.storage.StringConverter', 'key.converter.a': 'b' });
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.errors)).toBe(true);
    expect(Object.isFrozen(s.topics)).toBe(true);
    expect(Object.isFrozen(s.converters.key.props)).toBe(true);
    expect(() => {
      (s.errors as { logEnable: boolean }).logEnable = true;
    }).toThrow(TypeError);
  });
});

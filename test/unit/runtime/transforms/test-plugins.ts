import {
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  DataError,
  type PredicatePlugin,
  type TransformationPlugin,
  Validators,
  newRecord,
} from '../../../../runtime/api/index.js';
import { PluginRegistry } from '../../../../runtime/plugins/registry.js';

/** Small test-only plugins: enough behaviour to observe order, predicates, failures and lifecycle. */
export const closed: string[] = [];

export function sourceRecord(topic: string, value: unknown): ConnectRecord {
  return {
    topic,
    kafkaPartition: 0,
    keySchema: null,
    key: null,
    valueSchema: null,
    value,
    timestamp: 0,
    headers: [],
  };
}

const appendTopic: TransformationPlugin = {
  type: 'transformation',
  className: 'test.transforms.AppendTopic',
  aliases: ['AppendTopic'],
  version: '0',
  summary: 'appends a suffix to the topic',
  config: new ConfigDef().define({
    name: 'suffix',
    type: 'STRING',
    importance: 'HIGH',
    documentation: 'suffix',
    validator: Validators.nonEmptyString(),
  }),
  create() {
    let suffix = '';
    return {
      configure(props) {
        suffix = appendTopic.config.parse(props).string('suffix');
      },
      apply: (r) => newRecord(r, { topic: r.topic + suffix }),
      close() {
        closed.push(`AppendTopic${suffix}`);
      },
    };
  },
};

const drop: TransformationPlugin = {
  type: 'transformation',
  className: 'test.transforms.Drop',
  aliases: ['Drop'],
  version: '0',
  summary: 'drops every record',
  config: new ConfigDef(),
  create: () => ({ configure() {}, apply: () => null, close() {} }),
};

const fail: TransformationPlugin = {
  type: 'transformation',
  className: 'test.transforms.Fail',
  aliases: ['Fail'],
  version: '0',
  summary: 'fails on every record, naming a field',
  config: new ConfigDef(),
  create: () => ({
    configure() {},
    apply() {
      throw new DataError('Cannot cast "abc" to int32 for field: "order.qty"', 'order.qty');
    },
    close() {},
  }),
};

/** Cross-key check in configure(), as InsertField's "No field insertion configured". */
const strict: TransformationPlugin = {
  type: 'transformation',
  className: 'test.transforms.Strict',
  aliases: ['Strict'],
  version: '0',
  summary: 'rejects level above 3 in configure',
  config: new ConfigDef().define({ name: 'level', type: 'INT', defaultValue: 1, importance: 'LOW', documentation: '' }),
  create: () => ({
    configure(props) {
      const level = strict.config.parse(props).int('level');
      if (level > 3) throw ConfigError.invalid('level', level, 'Level must be at most 3');
    },
    apply: (r) => r,
    close() {},
  }),
};

/** Async configure: apply() fails unless configure's promise was awaited. */
const slowStart: TransformationPlugin = {
  type: 'transformation',
  className: 'test.transforms.SlowStart',
  aliases: ['SlowStart'],
  version: '0',
  summary: 'configures asynchronously',
  config: new ConfigDef(),
  create() {
    let ready = false;
    return {
      async configure() {
        await new Promise((resolve) => setTimeout(resolve, 20));
        ready = true;
      },
      apply(r) {
        if (!ready) throw new Error('applied before configure finished');
        return newRecord(r, { topic: `${r.topic}.ready` });
      },
      close() {},
    };
  },
};

const topicIs: PredicatePlugin = {
  type: 'predicate',
  className: 'test.predicates.TopicIs',
  aliases: ['TopicIs'],
  version: '0',
  summary: 'topic equals',
  config: new ConfigDef().define({ name: 'topic', type: 'STRING', importance: 'HIGH', documentation: 'topic' }),
  create() {
    let topic = '';
    return {
      configure(props) {
        topic = topicIs.config.parse(props).string('topic');
      },
      test: (r) => r.topic === topic,
      close() {
        closed.push(`TopicIs:${topic}`);
      },
    };
  },
};

export function testRegistry(): PluginRegistry {
  return new PluginRegistry([appendTopic, drop, fail, strict, slowStart, topicIs]);
}

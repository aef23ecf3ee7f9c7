import {
  ConfigDef,
  RetriableError,
  type SinkConnectorPlugin,
  type SinkRecord,
  type SinkTaskContext,
  type SourceConnectorPlugin,
  type SourceRecord,
  type SourceTaskContext,
  Schemas,
  type TopicPartition,
} from '../../../../runtime/api/index.js';
import { builtinPlugins } from '../../../../bundle/builtin.js';
import { PluginRegistry } from '../../../../runtime/plugins/registry.js';

/** Test connectors: one whose tasks fail on demand, one with a password key, one that over-produces tasks. */
export const control = {
  failPoll: false,
  polls: 0,
  startedTasks: 0,
  records: [] as string[],
  /** While set, the connector's start() throws what it returns (its database down, say); starts are counted. */
  failConnectorStart: null as (() => Error) | null,
  connectorStarts: 0,
  /** While set, a task's start() throws what it returns; `taskObjectsStarted` counts starts per task object. */
  failTaskStart: null as (() => Error) | null,
  taskObjectsStarted: [] as number[],
};

const flakyConfig = new ConfigDef()
  .define({ name: 'topic', type: 'STRING', defaultValue: 'flaky', importance: 'HIGH', documentation: 'topic' })
  .define({ name: 'db.password', type: 'PASSWORD', defaultValue: null, importance: 'HIGH', documentation: 'secret' })
  .define({
    name: 'extra.tasks',
    type: 'INT',
    defaultValue: 0,
    importance: 'LOW',
    documentation: 'over-produce tasks',
  });

export const flakySource: SourceConnectorPlugin = {
  type: 'source',
  className: 'test.FlakySourceConnector',
  aliases: ['FlakySource'],
  version: '1.0.0',
  config: flakyConfig,
  summary: 'test',
  create: () => {
    let props: Record<string, string> = {};
    return {
      kind: 'source',
      version: () => '1.0.0',
      start(p) {
        control.connectorStarts++;
        if (control.failConnectorStart) throw control.failConnectorStart();
        props = { ...p };
      },
      taskConfigs(max) {
        const n = Math.min(max, 1) + Number(props['extra.tasks'] ?? 0);
        return Array.from({ length: n }, () => ({ ...props }));
      },
      stop() {},
      // Like a driver whose error repeats the credentials it was given.
      validate(p) {
        const pw = p['db.password'] ?? '';
        if (!pw.startsWith('bad')) return [];
        return [
          {
            name: 'db.password',
            value: null,
            recommendedValues: [],
            errors: [`login refused for ${pw}`],
            visible: true,
          },
        ];
      },
    };
  },
  createTask: () => {
    let ctx: SourceTaskContext;
    let topic = 'flaky';
    let seq = 0;
    const object = control.taskObjectsStarted.push(0) - 1;
    return {
      version: () => '1.0.0',
      initialize(c) {
        ctx = c;
      },
      async start(p) {
        control.taskObjectsStarted[object]!++;
        if (control.failTaskStart) throw control.failTaskStart();
        control.startedTasks++;
        control.records.push(`password=${p['db.password'] ?? ''}`);
        topic = p.topic ?? 'flaky';
        const prev = await ctx.offsetStorageReader.offset({ p: 0 });
        seq = prev ? Number(prev.seq) + 1 : 0;
      },
      async poll(): Promise<SourceRecord[] | null> {
        control.polls++;
        if (control.failPoll) throw new Error('boom: the source is broken');
        await new Promise((r) => setTimeout(r, 20));
        const value = String(seq);
        const rec: SourceRecord = {
          topic,
          kafkaPartition: null,
          keySchema: null,
          key: null,
          valueSchema: Schemas.STRING,
          value,
          timestamp: null,
          headers: [],
          sourcePartition: { p: 0 },
          sourceOffset: { seq },
        };
        seq++;
        ctx.status.progress({ rows: { done: seq }, phase: 'streaming' });
        return [rec];
      },
      async stop() {},
    };
  },
};

/** A test sink connector named `<name>Sink` (class `test.<name>SinkConnector`): one task, made by `createTask`. */
function testSinkPlugin(name: string, createTask: SinkConnectorPlugin['createTask']): SinkConnectorPlugin {
  return {
    type: 'sink',
    className: `test.${name}SinkConnector`,
    aliases: [`${name}Sink`],
    version: '1.0.0',
    config: new ConfigDef(),
    summary: 'test',
    create: () => ({
      kind: 'sink',
      version: () => '1.0.0',
      start() {},
      taskConfigs: () => [{}],
      stop() {},
    }),
    createTask,
  };
}

/**
 * A sink that holds records whose value starts with "later" and rejects them through the errant record
 * reporter on its next put, when their batch is long gone (as a sink that parks records does).
 */
export const deferredRejectSink = testSinkPlugin('DeferredReject', () => {
  let ctx: SinkTaskContext;
  let held: SinkRecord[] = [];
  return {
    version: () => '1.0.0',
    initialize(c) {
      ctx = c;
    },
    async start() {},
    async put(records) {
      for (const r of held) await ctx.errantRecordReporter!.report(r, new Error('never became ready'));
      held = records.filter((r) => String(r.value).startsWith('later'));
    },
    async stop() {},
  };
});

/** What the holding sink was given, and the records it still holds (see holdingSink). */
export const holding = {
  put: [] as string[],
  records: [] as SinkRecord[],
  held: [] as SinkRecord[],
  /** open()/close() calls, as `open t-0` / `close t-0`. */
  partitionEvents: [] as string[],
};

/**
 * A sink that holds records whose value starts with "hold" (as a sink writing asynchronously does) until
 * `holding.held` is emptied; its preCommit vouches only for offsets below the first record it holds.
 */
export const holdingSink = testSinkPlugin('Holding', () => ({
  version: () => '1.0.0',
  initialize() {},
  async start() {},
  async put(records) {
    for (const r of records) {
      holding.put.push(String(r.value));
      holding.records.push(r);
      if (String(r.value).startsWith('hold')) holding.held.push(r);
    }
  },
  // Like the LookupSink: it can only vouch for records it was given.
  async preCommit(current) {
    const out = new Map<TopicPartition, bigint>();
    for (const [tp, offset] of current) {
      const mine = (r: SinkRecord) => r.topic === tp.topic && r.kafkaPartition === tp.partition;
      const firstHeld = holding.held.find(mine);
      const lastPut = holding.records.filter(mine).at(-1);
      if (firstHeld) out.set(tp, firstHeld.kafkaOffset);
      else if (lastPut) out.set(tp, lastPut.kafkaOffset + 1n < offset ? lastPut.kafkaOffset + 1n : offset);
    }
    return out;
  },
  async open(partitions) {
    for (const p of partitions) holding.partitionEvents.push(`open ${p.topic}-${p.partition}`);
  },
  async close(partitions) {
    for (const p of partitions) holding.partitionEvents.push(`close ${p.topic}-${p.partition}`);
  },
  async stop() {},
}));

/** The outage sink's switches and what it saw (see outageSink). */
export const outage = {
  /** While set, a task instance's delivery stage fails with this (once failed, the instance stays failed). */
  failWith: null as (() => Error) | null,
  starts: 0,
  delivered: [] as string[],
};

/**
 * A sink that delivers after put() returned, as the LookupSink does: a failed delivery cannot be retried by
 * redelivering a later batch, so the instance reports it from preCommit and every call after (the task must be
 * started again from its committed offsets).
 */
export const outageSink = testSinkPlugin('Outage', () => {
  let failed: Error | null = null;
  let done = new Map<string, bigint>();
  return {
    version: () => '1.0.0',
    initialize() {},
    async start() {
      outage.starts++;
      done = new Map();
    },
    async put(records) {
      if (failed) throw failed;
      for (const r of records) {
        if (outage.failWith) {
          failed = outage.failWith();
          return;
        }
        outage.delivered.push(String(r.value));
        done.set(`${r.topic}\0${r.kafkaPartition}`, r.kafkaOffset + 1n);
      }
    },
    async preCommit(current) {
      if (failed) throw failed;
      const out = new Map<TopicPartition, bigint>();
      for (const [tp, offset] of current) {
        const d = done.get(`${tp.topic}\0${tp.partition}`);
        if (d !== undefined) out.set(tp, d < offset ? d : offset);
      }
      return out;
    },
    async stop() {},
  };
});

export const destination = {
  /** While true, put() throws a RetriableError (a destination that is down). */
  down: false,
  /** While true, put() throws an error that is no outage (the task fails). */
  broken: false,
  attempts: 0,
  delivered: [] as string[],
  /** Task instances stopped (a failed one included). */
  stops: 0,
  /** A value whose delivery makes the task pause that record's partition (SinkTaskContext.pause). */
  pauseOn: null as string | null,
  /** The last task instance's context (to resume what it paused). */
  context: null as SinkTaskContext | null,
};

/** A sink without preCommit whose put() fails with a RetriableError while its destination is down (Connect's default). */
export const retryingSink = testSinkPlugin('Retrying', () => {
  let ctx: SinkTaskContext;
  return {
    version: () => '1.0.0',
    initialize(c) {
      ctx = c;
      destination.context = c;
    },
    async start() {},
    async put(records) {
      destination.attempts++;
      if (destination.down && records.length > 0) throw new RetriableError('The destination is down');
      if (destination.broken && records.length > 0) throw new Error('The destination refused the batch');
      for (const r of records) {
        destination.delivered.push(String(r.value));
        if (destination.pauseOn !== null && String(r.value) === destination.pauseOn)
          ctx.pause({ topic: r.topic, partition: r.kafkaPartition });
      }
    },
    async stop() {
      destination.stops++;
    },
  };
});

export function testRegistry(): PluginRegistry {
  return new PluginRegistry([
    ...builtinPlugins(),
    flakySource,
    deferredRejectSink,
    holdingSink,
    outageSink,
    retryingSink,
  ]);
}

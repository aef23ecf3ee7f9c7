import {
  ConfigDef,
  type SourceConnector,
  type SourceConnectorPlugin,
  type SourceRecord,
  type SourceTask,
  type SourceTaskContext,
  SchemaBuilder,
  Schemas,
  Struct,
  Validators,
} from '../../runtime/api/index.js';
import { FILE_CONNECTOR_VERSION } from './version.js';

export const sequenceSourceConfig = new ConfigDef()
  .define({
    name: 'topic',
    type: 'STRING',
    importance: 'HIGH',
    documentation: 'The topic to write the sequence to.',
  })
  .define({
    name: 'records.per.second',
    type: 'INT',
    defaultValue: 100,
    validator: Validators.atLeast(0),
    importance: 'MEDIUM',
    documentation: 'Records each task emits per second; 0 = as fast as possible (benchmarks).',
  })
  .define({
    name: 'max.records',
    type: 'LONG',
    defaultValue: -1,
    importance: 'LOW',
    documentation: 'Stop emitting after this many records per task (-1 = never).',
  })
  .define({
    name: 'batch.size',
    type: 'INT',
    defaultValue: 500,
    validator: Validators.atLeast(1),
    importance: 'LOW',
    documentation: 'Largest number of records one poll returns.',
  });

export const SEQUENCE_VALUE_SCHEMA = new SchemaBuilder('struct')
  .name('erpstream.connectors.Sequence')
  .field('task', Schemas.INT32)
  .field('seq', Schemas.INT64)
  .build();

/**
 * Emits a counter: key `<task>-<seq>`, value {task, seq}. Offsets `{seq}` under partition `{task}`, so a
 * restarted task continues after the last acknowledged number: a gap or a repeat in a topic is a bug.
 */
export class SequenceSourceTask implements SourceTask {
  private context!: SourceTaskContext;
  private topic = '';
  private rate = 100;
  private max = -1n;
  private batch = 500;
  private next = 0n;
  private startedAt = 0;
  private emittedSinceStart = 0;

  version(): string {
    return FILE_CONNECTOR_VERSION;
  }
  initialize(context: SourceTaskContext): void {
    this.context = context;
  }
  async start(props: Readonly<Record<string, string>>): Promise<void> {
    const c = sequenceSourceConfig.parse(props);
    this.topic = c.string('topic');
    this.rate = c.int('records.per.second');
    this.max = BigInt(c.int('max.records'));
    this.batch = c.int('batch.size');
    const stored = await this.context.offsetStorageReader.offset({ task: this.context.taskId });
    this.next = stored?.seq !== undefined ? BigInt(String(stored.seq)) + 1n : 0n;
    this.startedAt = Date.now();
  }
  async poll(): Promise<SourceRecord[] | null> {
    let n = this.batch;
    if (this.max >= 0n) n = Math.min(n, Number(this.max - this.next));
    if (this.rate > 0) {
      const due = Math.floor(((Date.now() - this.startedAt) / 1000) * this.rate) - this.emittedSinceStart;
      n = Math.min(n, due);
    }
    if (n <= 0) {
      await new Promise((r) => setTimeout(r, this.rate > 0 ? Math.max(5, Math.min(100, 1000 / this.rate)) : 100));
      return null;
    }
    const out: SourceRecord[] = [];
    const task = this.context.taskId;
    for (let i = 0; i < n; i++) {
      const seq = this.next++;
      out.push({
        topic: this.topic,
        kafkaPartition: null,
        keySchema: Schemas.STRING,
        key: `${task}-${seq}`,
        valueSchema: SEQUENCE_VALUE_SCHEMA,
        value: new Struct(SEQUENCE_VALUE_SCHEMA).put('task', task).put('seq', seq),
        timestamp: Date.now(),
        headers: [],
        sourcePartition: { task },
        sourceOffset: { seq: Number(seq) },
      });
    }
    this.emittedSinceStart += n;
    return out;
  }
  async stop(): Promise<void> {}
}

export class SequenceSourceConnector implements SourceConnector {
  readonly kind = 'source' as const;
  private props: Record<string, string> = {};
  version(): string {
    return FILE_CONNECTOR_VERSION;
  }
  start(props: Readonly<Record<string, string>>): void {
    sequenceSourceConfig.parse(props);
    this.props = { ...props };
  }
  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    return Array.from({ length: maxTasks }, () => ({ ...this.props }));
  }
  stop(): void {}
}

export const sequenceSourcePlugin: SourceConnectorPlugin = {
  type: 'source',
  className: 'erpstream.connectors.SequenceSourceConnector',
  aliases: ['erpstream.connectors.SequenceSource', 'SequenceSource', 'SequenceSourceConnector'],
  version: FILE_CONNECTOR_VERSION,
  config: sequenceSourceConfig,
  summary: 'Emits a numbered sequence at a set rate (for tests and benchmarks).',
  example: { 'connector.class': 'SequenceSource', topic: 'seq', 'records.per.second': '1000' },
  create: () => new SequenceSourceConnector(),
  createTask: () => new SequenceSourceTask(),
};

import { open, type FileHandle } from 'node:fs/promises';
import {
  ConfigDef,
  ConfigError,
  type SourceConnector,
  type SourceConnectorPlugin,
  type SourceRecord,
  type SourceTask,
  type SourceTaskContext,
  Schemas,
  Validators,
} from '../../runtime/api/index.js';
import { FILE_CONNECTOR_VERSION } from './version.js';

/** Same keys, defaults and docs as Kafka's FileStreamSourceConnector. */
export const fileStreamSourceConfig = new ConfigDef()
  .define({
    name: 'file',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    displayName: 'file',
    documentation: 'Source filename. If not specified, the standard input will be used',
  })
  .define({
    name: 'topic',
    type: 'STRING',
    importance: 'HIGH',
    displayName: 'topic',
    validator: Validators.custom('non-empty string without commas', (name, v) => {
      const s = String(v ?? '');
      if (s.trim() === '' || s.includes(',')) {
        throw ConfigError.invalid(name, s, "'topic' must be a single, non-empty topic name");
      }
    }),
    documentation: 'The topic to publish data to',
  })
  .define({
    name: 'batch.size',
    type: 'INT',
    defaultValue: 2000,
    importance: 'LOW',
    displayName: 'batch.size',
    documentation: 'The maximum number of records the source task can read from the file each time it is polled',
  });

/** How long poll() waits when the file has no new complete line (Connect's task waits 1 s). */
const IDLE_WAIT_MS = 250;
const READ_CHUNK = 64 * 1024;

/**
 * Tails a file line by line. The source offset is the byte position after the last emitted line
 * (`{"position": n}` under partition `{"filename": path}`), exactly as Kafka's FileStreamSourceTask.
 */
export class FileStreamSourceTask implements SourceTask {
  private context!: SourceTaskContext;
  private filename = '';
  private topic = '';
  private batchSize = 2000;
  private handle: FileHandle | null = null;
  private position = 0;
  private buffered = Buffer.alloc(0);
  private stopped = false;

  version(): string {
    return FILE_CONNECTOR_VERSION;
  }

  initialize(context: SourceTaskContext): void {
    this.context = context;
  }

  async start(props: Readonly<Record<string, string>>): Promise<void> {
    const c = fileStreamSourceConfig.parse(props);
    const file = c.stringOrNull('file');
    if (file === null || file === '') {
      throw new ConfigError('Reading standard input is not supported: set "file"', 'file');
    }
    this.filename = file;
    this.topic = c.string('topic');
    this.batchSize = c.int('batch.size');
    const stored = await this.context.offsetStorageReader.offset({ filename: this.filename });
    const pos = stored?.position;
    this.position = typeof pos === 'number' ? pos : typeof pos === 'bigint' ? Number(pos) : Number(pos ?? 0) || 0;
    this.context.logger.info('File source started', { file: this.filename, position: this.position });
  }

  private async openIfNeeded(): Promise<boolean> {
    if (this.handle) return true;
    try {
      this.handle = await open(this.filename, 'r');
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false; // Connect waits for the file to appear
      throw e;
    }
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.stopped) return null;
    if (!(await this.openIfNeeded())) return this.idle();
    const records: SourceRecord[] = [];
    const readFrom = this.position + this.buffered.length;
    const chunk = Buffer.alloc(READ_CHUNK);
    const { bytesRead } = await this.handle!.read(chunk, 0, READ_CHUNK, readFrom);
    if (bytesRead > 0) this.buffered = Buffer.concat([this.buffered, chunk.subarray(0, bytesRead)]);
    let start = 0;
    while (records.length < this.batchSize) {
      const nl = this.buffered.indexOf(0x0a, start);
      if (nl < 0) break;
      let end = nl;
      if (end > start && this.buffered[end - 1] === 0x0d) end--;
      const line = this.buffered.subarray(start, end).toString('utf8');
      start = nl + 1;
      records.push({
        topic: this.topic,
        kafkaPartition: null,
        keySchema: null,
        key: null,
        valueSchema: Schemas.STRING,
        value: line,
        timestamp: null,
        headers: [],
        sourcePartition: { filename: this.filename },
        sourceOffset: { position: this.position + start },
      });
    }
    this.position += start;
    this.buffered = this.buffered.subarray(start);
    return records.length > 0 ? records : this.idle();
  }

  private async idle(): Promise<null> {
    await new Promise((r) => setTimeout(r, IDLE_WAIT_MS));
    return null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.handle?.close();
    this.handle = null;
  }
}

export class FileStreamSourceConnector implements SourceConnector {
  readonly kind = 'source' as const;
  private props: Record<string, string> = {};

  version(): string {
    return FILE_CONNECTOR_VERSION;
  }
  start(props: Readonly<Record<string, string>>): void {
    fileStreamSourceConfig.parse(props);
    this.props = { ...props };
  }
  /** One task: a file cannot be split between readers. */
  taskConfigs(): Array<Record<string, string>> {
    return [{ ...this.props }];
  }
  stop(): void {}
  /** Offsets are only the position in the file: the framework-managed ones are all there is. */
  alterOffsets(): boolean {
    return true;
  }
}

export const fileStreamSourcePlugin: SourceConnectorPlugin = {
  type: 'source',
  // Kafka's own class name, so tools and scripts written for Connect's FileStream connectors find it.
  className: 'org.apache.kafka.connect.file.FileStreamSourceConnector',
  aliases: [
    'erpstream.connectors.FileStreamSourceConnector',
    'erpstream.connectors.FileStreamSource',
    'FileStreamSource',
    'FileStreamSourceConnector',
  ],
  version: FILE_CONNECTOR_VERSION,
  config: fileStreamSourceConfig,
  summary: 'Reads a file line by line into a topic (the FileStream source, for tests and demos).',
  example: {
    'connector.class': 'FileStreamSource',
    file: '/tmp/input.txt',
    topic: 'lines',
  },
  create: () => new FileStreamSourceConnector(),
  createTask: () => new FileStreamSourceTask(),
};

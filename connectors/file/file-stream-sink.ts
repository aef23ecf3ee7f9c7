import { open, type FileHandle } from 'node:fs/promises';
import {
  ConfigDef,
  type SinkConnector,
  type SinkConnectorPlugin,
  type SinkRecord,
  type SinkTask,
  type SinkTaskContext,
  Struct,
  type TopicPartition,
} from '../../runtime/api/index.js';
import { FILE_CONNECTOR_VERSION } from './version.js';

/** Same keys and docs as Kafka's FileStreamSinkConnector. */
export const fileStreamSinkConfig = new ConfigDef().define({
  name: 'file',
  type: 'STRING',
  defaultValue: null,
  importance: 'HIGH',
  displayName: 'file',
  documentation: 'Destination filename. If not specified, the standard output will be used',
});

/** One line per record value, as Java's println(value) shows it (structs and maps as JSON here). */
export function renderValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return value;
  return jsonText(value);
}

/** JSON with int64 (bigint) kept as exact numbers, structs and maps as objects, bytes as base64. */
function jsonText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  const entries: Array<[string, unknown]> =
    value instanceof Struct
      ? (value.schema.fields ?? []).map((f) => [f.name, value.get(f.name)])
      : value instanceof Map
        ? [...value].map(([k, v]) => [String(k), v])
        : typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype
          ? Object.entries(value)
          : [];
  if (
    entries.length === 0 &&
    !(value instanceof Struct) &&
    !(value instanceof Map) &&
    Object.getPrototypeOf(value) !== Object.prototype
  ) {
    return JSON.stringify(String(value)); // e.g. Decimal: its exact text
  }
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`;
}

export class FileStreamSinkTask implements SinkTask {
  private handle: FileHandle | null = null;
  private toStdout = false;
  private context!: SinkTaskContext;

  version(): string {
    return FILE_CONNECTOR_VERSION;
  }
  initialize(context: SinkTaskContext): void {
    this.context = context;
  }
  async start(props: Readonly<Record<string, string>>): Promise<void> {
    const file = fileStreamSinkConfig.parse(props).stringOrNull('file');
    if (file === null || file === '') this.toStdout = true;
    else this.handle = await open(file, 'a');
    this.context.logger.info('File sink started', { file: file ?? '<stdout>' });
  }
  async put(records: SinkRecord[]): Promise<void> {
    if (records.length === 0) return;
    const text = records.map((r) => `${renderValue(r.value)}\n`).join('');
    if (this.toStdout) process.stdout.write(text);
    else await this.handle!.appendFile(text, 'utf8');
  }
  /** Data must be on disk before the consumer offsets move past it. */
  async preCommit(current: Map<TopicPartition, bigint>): Promise<Map<TopicPartition, bigint>> {
    await this.handle?.sync();
    return current;
  }
  async stop(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }
}

export class FileStreamSinkConnector implements SinkConnector {
  readonly kind = 'sink' as const;
  private props: Record<string, string> = {};
  version(): string {
    return FILE_CONNECTOR_VERSION;
  }
  start(props: Readonly<Record<string, string>>): void {
    fileStreamSinkConfig.parse(props);
    this.props = { ...props };
  }
  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    return Array.from({ length: maxTasks }, () => ({ ...this.props }));
  }
  stop(): void {}
  alterOffsets(): boolean {
    return true;
  }
}

export const fileStreamSinkPlugin: SinkConnectorPlugin = {
  type: 'sink',
  // Kafka's own class name, so tools and scripts written for Connect's FileStream connectors find it.
  className: 'org.apache.kafka.connect.file.FileStreamSinkConnector',
  aliases: [
    'erpstream.connectors.FileStreamSinkConnector',
    'erpstream.connectors.FileStreamSink',
    'FileStreamSink',
    'FileStreamSinkConnector',
  ],
  version: FILE_CONNECTOR_VERSION,
  config: fileStreamSinkConfig,
  summary: 'Appends each record value as a line to a file (the FileStream sink, for tests and demos).',
  example: { 'connector.class': 'FileStreamSink', file: '/tmp/output.txt', topics: 'lines' },
  create: () => new FileStreamSinkConnector(),
  createTask: () => new FileStreamSinkTask(),
};

import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileConnectorPlugins } from '../../../../connectors/file/index.js';
import { FileStreamSinkTask, renderValue } from '../../../../connectors/file/file-stream-sink.js';
import { FileStreamSourceTask } from '../../../../connectors/file/file-stream-source.js';
import { SequenceSourceTask } from '../../../../connectors/file/sequence-source.js';
import {
  type SinkRecord,
  type SinkTaskContext,
  type SourceTaskContext,
  SchemaBuilder,
  Schemas,
  Struct,
  silentLogger,
} from '../../../../runtime/api/index.js';

function sourceContext(stored: Record<string, unknown> | null, taskId = 0): SourceTaskContext {
  return {
    taskId,
    connectorName: 'c',
    logger: silentLogger,
    status: { progress() {} },
    offsetStorageReader: {
      offset: async () => stored,
      offsets: async () => new Map(),
    },
  };
}

describe('FileStreamSource', () => {
  it('emits each complete line with the byte position after it, and resumes from a stored offset', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-file-'));
    const file = path.join(dir, 'in.txt');
    await writeFile(file, 'héllo\r\nworld\npartial');
    const task = new FileStreamSourceTask();
    task.initialize(sourceContext(null));
    await task.start({ file, topic: 't' });
    const first = (await task.poll())!;
    expect(first.map((r) => r.value)).toEqual(['héllo', 'world']);
    expect(first.map((r) => r.sourceOffset)).toEqual([{ position: 8 }, { position: 14 }]);
    expect(first[0]).toMatchObject({ topic: 't', sourcePartition: { filename: file }, valueSchema: Schemas.STRING });
    expect(await task.poll()).toBeNull(); // "partial" has no newline yet
    await appendFile(file, ' line\n');
    expect((await task.poll())!.map((r) => [r.value, r.sourceOffset])).toEqual([['partial line', { position: 27 }]]);
    await task.stop();

    const resumed = new FileStreamSourceTask();
    resumed.initialize(sourceContext({ position: 14 }));
    await resumed.start({ file, topic: 't' });
    expect((await resumed.poll())!.map((r) => r.value)).toEqual(['partial line']);
    await resumed.stop();
  });

  it('honours batch.size and waits for a file that does not exist yet', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-file-'));
    const file = path.join(dir, 'later.txt');
    const task = new FileStreamSourceTask();
    task.initialize(sourceContext(null));
    await task.start({ file, topic: 't', 'batch.size': '2' });
    expect(await task.poll()).toBeNull();
    await writeFile(file, 'a\nb\nc\n');
    expect((await task.poll())!.map((r) => r.value)).toEqual(['a', 'b']);
    expect((await task.poll())!.map((r) => r.value)).toEqual(['c']);
    await task.stop();
  });

  it('requires topic; reading stdin is refused with a clear error', async () => {
    const task = new FileStreamSourceTask();
    task.initialize(sourceContext(null));
    await expect(task.start({ file: '/tmp/x' })).rejects.toThrow('Missing required configuration "topic"');
    await expect(task.start({ topic: 't' })).rejects.toThrow(/standard input/);
  });
});

describe('FileStreamSink', () => {
  it('appends one line per value and syncs before offsets are committed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-file-'));
    const file = path.join(dir, 'out.txt');
    const task = new FileStreamSinkTask();
    task.initialize({ logger: silentLogger } as unknown as SinkTaskContext);
    await task.start({ file });
    const rec = (value: unknown): SinkRecord =>
      ({ value, topic: 't', kafkaPartition: 0, kafkaOffset: 0n }) as unknown as SinkRecord;
    await task.put([rec('a'), rec(null), rec({ n: 2n ** 63n - 1n })]);
    const offsets = new Map([[{ topic: 't', partition: 0 }, 3n]]);
    expect(await task.preCommit(offsets)).toBe(offsets);
    await task.stop();
    expect(await readFile(file, 'utf8')).toBe('a\nnull\n{"n":9223372036854775807}\n');
  });

  it('renders structs and maps as JSON with exact int64', () => {
    const schema = new SchemaBuilder('struct').field('id', Schemas.INT64).field('name', Schemas.STRING).build();
    expect(renderValue(new Struct(schema).put('id', 12345678901234567n).put('name', 'x'))).toBe(
      '{"id":12345678901234567,"name":"x"}',
    );
    expect(renderValue(new Map([['k', 1]]))).toBe('{"k":1}');
  });
});

describe('SequenceSource', () => {
  it('counts from the stored offset, keyed by task, honouring max.records', async () => {
    const task = new SequenceSourceTask();
    task.initialize(sourceContext({ seq: 4 }, 1));
    await task.start({ topic: 's', 'records.per.second': '0', 'max.records': '8' });
    const recs = (await task.poll())!;
    expect(recs.map((r) => r.key)).toEqual(['1-5', '1-6', '1-7']);
    expect((recs[0]!.value as Struct).get('seq')).toBe(5n);
    expect(recs.map((r) => r.sourceOffset)).toEqual([{ seq: 5 }, { seq: 6 }, { seq: 7 }]);
    expect(await task.poll()).toBeNull();
  });
});

describe('plugin descriptors', () => {
  it('resolve by erpstream names, simple names and Kafka FQCNs', () => {
    const names = fileConnectorPlugins.flatMap((p) => [p.className, ...(p.aliases ?? [])]);
    for (const n of [
      'erpstream.connectors.FileStreamSource',
      'erpstream.connectors.FileStreamSink',
      'FileStreamSource',
      'FileStreamSinkConnector',
      'org.apache.kafka.connect.file.FileStreamSourceConnector',
      'org.apache.kafka.connect.file.FileStreamSinkConnector',
      'erpstream.connectors.SequenceSource',
    ]) {
      expect(names).toContain(n);
    }
  });
});

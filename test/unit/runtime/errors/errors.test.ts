import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataError, RetriableError } from '../../../../runtime/api/index.js';
import {
  DLQ_HEADERS,
  MAX_MESSAGE_HEADER,
  MAX_STACK_HEADER,
  errorContextHeaders,
} from '../../../../runtime/errors/dlq.js';
import { RetryWithToleranceOperator, ToleranceExceededError } from '../../../../runtime/errors/retry.js';
import { waitFor } from '../worker/fake-kafka.js';
import { type Harness, startHarness } from '../worker/harness.js';
import { testRegistry } from '../worker/test-plugins.js';

const base = {
  retryTimeoutMs: 0,
  retryDelayMaxMs: 60000,
  tolerance: 'none' as const,
  logEnable: false,
  logIncludeMessages: false,
};

describe('RetryWithToleranceOperator', () => {
  it('retries retriable errors with exponential backoff capped at errors.retry.delay.max.ms, until the timeout', async () => {
    let now = 0;
    const sleeps: number[] = [];
    let calls = 0;
    const op = new RetryWithToleranceOperator(
      { ...base, retryTimeoutMs: 5000, retryDelayMaxMs: 1000 },
      async () => {},
      {
        now: () => now,
        random: () => 0,
        sleep: async (ms) => {
          sleeps.push(ms);
          now += ms;
        },
      },
    );
    await expect(
      op.execute(
        'TASK_PUT',
        'X',
        () => {
          calls++;
          throw new RetriableError('broker away');
        },
        undefined,
      ),
    ).rejects.toBeInstanceOf(ToleranceExceededError);
    expect(sleeps.slice(0, 4)).toEqual([300, 600, 1000, 1000]);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(5000);
    expect(calls).toBe(sleeps.length + 1);
  });

  it('succeeds after a transient failure', async () => {
    let n = 0;
    const op = new RetryWithToleranceOperator({ ...base, retryTimeoutMs: 10_000 }, async () => {}, {
      sleep: async () => {},
    });
    const r = await op.execute(
      'KEY_CONVERTER',
      'X',
      () => {
        if (n++ < 2) throw new RetriableError('again');
        return 42;
      },
      undefined,
    );
    expect(r).toEqual({ ok: true, value: 42 });
  });

  it('does not retry non-retriable errors; tolerance all reports and skips, none fails', async () => {
    const reported: Array<{ stage: string; tolerated: boolean }> = [];
    const report = async (f: { stage: string }, _c: undefined, tolerated: boolean) =>
      void reported.push({ stage: f.stage, tolerated });
    const all = new RetryWithToleranceOperator({ ...base, tolerance: 'all', retryTimeoutMs: 10_000 }, report);
    expect(
      await all.execute(
        'TRANSFORMATION',
        'T',
        () => {
          throw new Error('bad');
        },
        undefined,
      ),
    ).toEqual({ ok: false });
    const none = new RetryWithToleranceOperator(base, report);
    await expect(
      none.execute(
        'VALUE_CONVERTER',
        'C',
        () => {
          throw new Error('bad');
        },
        undefined,
      ),
    ).rejects.toThrow('Tolerance exceeded in error handler (stage VALUE_CONVERTER): bad');
    expect(reported).toEqual([
      { stage: 'TRANSFORMATION', tolerated: true },
      { stage: 'VALUE_CONVERTER', tolerated: false },
    ]);
  });
});

const header = (headers: Array<[string, Buffer | null]>, key: string) =>
  headers.find(([k]) => k === key)?.[1]?.toString('utf8');

describe('dead letter queue context headers', () => {
  it("bound the exception's message and stack trace, so a value quoted in them cannot make the DLQ copy too large", () => {
    // A message quoting a 1 MB value, and a cause quoting it again: the headers were ~3 MB (past max.message.bytes,
    // and the failed DLQ write failed the task).
    const value = 'v'.repeat(1_000_000);
    const error = new DataError(`Could not parse ${value}`, 'f', { cause: new Error(`inner ${value}`) });
    const headers = errorContextHeaders(
      { connector: 'c', task: 0 },
      { stage: 'TRANSFORMATION', className: 'X', error, attempts: 1 },
      { consumed: { topic: 't', partition: 0, offset: 5n } },
    );
    const get = (k: string) => headers.find(([h]) => h === k)![1].toString('utf8');
    const message = get(DLQ_HEADERS.exceptionMessage);
    expect(message.startsWith('Could not parse vvv')).toBe(true);
    expect(message.endsWith(`… (${error.message.length - MAX_MESSAGE_HEADER} more characters)`)).toBe(true);
    expect(message.length).toBeLessThan(MAX_MESSAGE_HEADER + 100);
    expect(get(DLQ_HEADERS.exceptionStacktrace).length).toBeLessThan(MAX_STACK_HEADER + 100);
    expect(headers.reduce((n, [, v]) => n + v.length, 0)).toBeLessThan(25_000);
    // Short ones are kept whole.
    const short = errorContextHeaders(
      { connector: 'c', task: 0 },
      { stage: 'TRANSFORMATION', className: 'X', error: new DataError('bad'), attempts: 1 },
      {},
    );
    expect(short.find(([h]) => h === DLQ_HEADERS.exceptionMessage)![1].toString()).toBe('bad');
  });
});

describe('dead letter queue through the worker', () => {
  let h: Harness;
  afterEach(async () => {
    await h.worker.stop();
  });

  it('source: a record failing a transform goes to the DLQ with its source partition/offset; the rest flow on', async () => {
    h = await startHarness();
    const input = path.join(h.dir, 'in.txt');
    await writeFile(input, '1\n2\npoison\n4\n');
    await h.req('POST', '/connectors', {
      name: 'src',
      config: {
        'connector.class': 'FileStreamSource',
        file: input,
        topic: 'nums',
        transforms: 'toInt',
        'transforms.toInt.type': 'org.apache.kafka.connect.transforms.Cast$Value',
        'transforms.toInt.spec': 'int32',
        'errors.tolerance': 'all',
        'errors.log.enable': 'true',
        'errors.deadletterqueue.topic.name': 'src-dlq',
        'errors.deadletterqueue.context.headers.enable': 'true',
      },
    });
    await waitFor(() => h.kafka.values('nums').length === 3 && h.kafka.values('src-dlq').length === 1);
    expect(h.kafka.values('nums')).toEqual(['1', '2', '4']);
    const [dlq] = h.kafka.topics.get('src-dlq')!;
    expect(dlq!.value?.toString()).toBe('poison');
    expect(header(dlq!.headers, DLQ_HEADERS.stage)).toBe('TRANSFORMATION');
    expect(header(dlq!.headers, DLQ_HEADERS.connectorName)).toBe('src');
    expect(header(dlq!.headers, DLQ_HEADERS.taskId)).toBe('0');
    expect(header(dlq!.headers, DLQ_HEADERS.topic)).toBe('nums');
    expect(header(dlq!.headers, DLQ_HEADERS.sourcePartition)).toBe(JSON.stringify({ filename: input }));
    expect(header(dlq!.headers, DLQ_HEADERS.sourceOffset)).toBe('{"position":11}');
    expect(header(dlq!.headers, DLQ_HEADERS.className)).toBe('org.apache.kafka.connect.transforms.Cast$Value');
    expect(header(dlq!.headers, DLQ_HEADERS.exceptionMessage)).toContain('toInt');
    expect(header(dlq!.headers, DLQ_HEADERS.exceptionStacktrace)).toContain('TransformError');
    expect(h.logs.some((l) => l.includes("Executing stage 'TRANSFORMATION'"))).toBe(true);
    // The poison record's offset advanced with the others: a restart does not replay it.
    await waitFor(async () => (await h.req('GET', '/connectors/src/offsets')).body.offsets[0]?.offset.position === 13);
  });

  it("source with errors.tolerance=none: the task fails and the failing record's offset is not committed", async () => {
    h = await startHarness();
    const input = path.join(h.dir, 'in.txt');
    await writeFile(input, 'poison\n');
    await h.req('POST', '/connectors', {
      name: 'strict',
      config: {
        'connector.class': 'FileStreamSource',
        file: input,
        topic: 'nums',
        transforms: 'toInt',
        'transforms.toInt.type': 'org.apache.kafka.connect.transforms.Cast$Value',
        'transforms.toInt.spec': 'int32',
      },
    });
    await waitFor(async () => (await h.req('GET', '/connectors/strict/status')).body.tasks[0]?.state === 'FAILED');
    const s = await h.req('GET', '/connectors/strict/status');
    expect(s.body.tasks[0].trace).toContain('Tolerance exceeded in error handler (stage TRANSFORMATION)');
    expect((await h.req('GET', '/connectors/strict/offsets')).body).toEqual({ offsets: [] });
  });

  it('sink: a record the converter cannot read goes to the DLQ with its original bytes and coordinates', async () => {
    h = await startHarness();
    h.kafka.append('in', {
      key: Buffer.from('k1'),
      value: Buffer.from('{"a":1}'),
      headers: [['trace', Buffer.from('t1')]],
    });
    h.kafka.append('in', {
      key: Buffer.from('k2'),
      value: Buffer.from('not json'),
      headers: [['trace', Buffer.from('t2')]],
    });
    h.kafka.append('in', { key: Buffer.from('k3'), value: Buffer.from('{"a":3}'), headers: [] });
    const out = path.join(h.dir, 'out.txt');
    await h.req('POST', '/connectors', {
      name: 'sink',
      config: {
        'connector.class': 'FileStreamSink',
        file: out,
        topics: 'in',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter.schemas.enable': 'false',
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': 'sink-dlq',
        'errors.deadletterqueue.context.headers.enable': 'true',
      },
    });
    await waitFor(() => h.kafka.values('sink-dlq').length === 1);
    const [dlq] = h.kafka.topics.get('sink-dlq')!;
    expect(dlq!.key?.toString()).toBe('k2');
    expect(dlq!.value?.toString()).toBe('not json');
    expect(header(dlq!.headers, 'trace')).toBe('t2');
    expect(header(dlq!.headers, DLQ_HEADERS.topic)).toBe('in');
    expect(header(dlq!.headers, DLQ_HEADERS.partition)).toBe('0');
    expect(header(dlq!.headers, DLQ_HEADERS.offset)).toBe('1');
    expect(header(dlq!.headers, DLQ_HEADERS.stage)).toBe('VALUE_CONVERTER');
    expect(header(dlq!.headers, DLQ_HEADERS.className)).toBe('org.apache.kafka.connect.json.JsonConverter');
    await waitFor(
      async () => (await h.req('GET', '/connectors/sink/offsets')).body.offsets[0]?.offset.kafka_offset === 3,
    );
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(out, 'utf8')).trim().split('\n')).toEqual(['{"a":1}', '{"a":3}']);
  });

  it('sink: a key the key converter cannot read is reported as KEY_CONVERTER, and the records around it go through', async () => {
    h = await startHarness();
    h.kafka.append('keys', { key: Buffer.from('"a"'), value: Buffer.from('one'), headers: [] });
    h.kafka.append('keys', { key: Buffer.from('{broken'), value: Buffer.from('two'), headers: [] });
    h.kafka.append('keys', { key: Buffer.from('"c"'), value: Buffer.from('three'), headers: [] });
    const out = path.join(h.dir, 'keys.txt');
    await h.req('POST', '/connectors', {
      name: 'keyed',
      config: {
        'connector.class': 'FileStreamSink',
        file: out,
        topics: 'keys',
        'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'key.converter.schemas.enable': 'false',
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': 'keys-dlq',
        'errors.deadletterqueue.context.headers.enable': 'true',
      },
    });
    await waitFor(() => h.kafka.values('keys-dlq').length === 1);
    const [dlq] = h.kafka.topics.get('keys-dlq')!;
    expect(dlq!.key?.toString()).toBe('{broken');
    expect(header(dlq!.headers, DLQ_HEADERS.stage)).toBe('KEY_CONVERTER');
    expect(header(dlq!.headers, DLQ_HEADERS.offset)).toBe('1');
    await waitFor(
      async () => (await h.req('GET', '/connectors/keyed/offsets')).body.offsets[0]?.offset.kafka_offset === 3,
    );
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(out, 'utf8')).trim().split('\n')).toEqual(['one', 'three']);
  });

  it('sink: a record the task rejects after its batch is gone is serialized again, not lost', async () => {
    h = await startHarness({}, { registry: testRegistry() });
    h.kafka.append('parked', { key: Buffer.from('doc-7'), value: Buffer.from('later: doc 7'), headers: [] });
    await h.req('POST', '/connectors', {
      name: 'parker',
      config: {
        'connector.class': 'DeferredRejectSink',
        topics: 'parked',
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': 'parked-dlq',
        'errors.deadletterqueue.context.headers.enable': 'true',
      },
    });
    await waitFor(
      async () => (await h.req('GET', '/connectors/parker/offsets')).body.offsets[0]?.offset.kafka_offset === 1,
    );
    h.kafka.append('parked', { key: Buffer.from('doc-8'), value: Buffer.from('ready: doc 8'), headers: [] });
    await waitFor(() => h.kafka.values('parked-dlq').length === 1);
    const [dlq] = h.kafka.topics.get('parked-dlq')!;
    expect(dlq!.key?.toString()).toBe('doc-7');
    expect(dlq!.value?.toString()).toBe('later: doc 7');
    expect(header(dlq!.headers, DLQ_HEADERS.topic)).toBe('parked');
    expect(header(dlq!.headers, DLQ_HEADERS.offset)).toBe('0');
    expect(header(dlq!.headers, DLQ_HEADERS.stage)).toBe('TASK_PUT');
  });

  it('without context headers the DLQ record carries only the original headers', async () => {
    h = await startHarness();
    h.kafka.append('in2', { key: null, value: Buffer.from('x'), headers: [] });
    await h.req('POST', '/connectors', {
      name: 'sink2',
      config: {
        'connector.class': 'FileStreamSink',
        file: path.join(h.dir, 'o2.txt'),
        topics: 'in2',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': 'dlq2',
      },
    });
    await waitFor(() => h.kafka.values('dlq2').length === 1);
    expect(h.kafka.topics.get('dlq2')![0]!.headers).toEqual([]);
  });
});

describe('fallbackBytes', () => {
  it('renders values without a converter: int64 exact, structs by field, bytes as base64', async () => {
    const { fallbackBytes } = await import('../../../../runtime/errors/dlq.js');
    const { SchemaBuilder, Schemas, Struct } = await import('../../../../runtime/api/index.js');
    const schema = new SchemaBuilder('struct').field('id', Schemas.INT64).field('b', Schemas.BYTES).build();
    const s = new Struct(schema).put('id', 9007199254740993n).put('b', Buffer.from('hi'));
    expect(fallbackBytes(s)?.toString()).toBe('{"id":9007199254740993,"b":"aGk="}');
    expect(fallbackBytes('text')?.toString()).toBe('text');
    expect(fallbackBytes(null)).toBeNull();
  });
});

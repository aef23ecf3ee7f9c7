import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { offsetsFromFlags } from '../../../../cli/commands/offsets.js';
import { classifyError } from '../../../../cli/errors.js';
import { type FakeConnect, startFakeConnect } from '../connect/fake-connect.js';
import { runConnectCli } from '../connect/run-connect-cli.js';

const none = new PassThrough();
none.end();

let fake: FakeConnect | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('offsetsFromFlags', () => {
  it('builds a source offset, a sink offset (exact 64-bit) and a removal', async () => {
    expect(await offsetsFromFlags({ partition: '{"filename": "/in.txt"}', offset: '{"position": 42}' }, none)).toEqual({
      offsets: [{ partition: { filename: '/in.txt' }, offset: { position: 42 } }],
    });
    expect(
      await offsetsFromFlags({ kafkaTopic: 't', kafkaPartition: '3', kafkaOffset: '9007199254740993' }, none),
    ).toEqual({
      offsets: [{ partition: { kafka_topic: 't', kafka_partition: 3 }, offset: { kafka_offset: 9007199254740993n } }],
    });
    expect(await offsetsFromFlags({ partition: '{"f": 1}', offset: 'null' }, none)).toEqual({
      offsets: [{ partition: { f: 1 }, offset: null }],
    });
  });

  it('reads a ConnectorOffsets document from stdin', async () => {
    const stdin = new PassThrough();
    stdin.end('offsets:\n  - partition: {filename: /in.txt}\n    offset: {position: 7}\n');
    expect(await offsetsFromFlags({ file: '-' }, stdin)).toEqual({
      offsets: [{ partition: { filename: '/in.txt' }, offset: { position: 7n } }],
    });
  });

  it.each([
    [{}, 'No offsets given.'],
    [{ file: 'x', partition: '{}' }, 'Give offsets one way only.'],
    [{ partition: '{}' }, '--partition and --offset go together.'],
    [{ partition: '[1]', offset: '{}' }, '--partition must be a JSON object.'],
    [{ partition: '{', offset: '{}' }, /--partition is not valid JSON/],
    [{ kafkaTopic: 't', kafkaPartition: '0' }, '--kafka-topic, --kafka-partition and --kafka-offset go together.'],
    [
      { kafkaTopic: 't', kafkaPartition: '-1', kafkaOffset: '0' },
      '--kafka-partition must be a non-negative integer, got "-1".',
    ],
  ])('rejects %j (exit 2)', async (flags, message) => {
    const error = classifyError(await offsetsFromFlags(flags, none).catch((e: unknown) => e));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(message);
  });
});

describe('erpstream offsets', () => {
  it('prints offsets as a table and sends exactly what was asked', async () => {
    fake = await startFakeConnect({
      'GET /connectors/s/offsets': {
        status: 200,
        body: { offsets: [{ partition: { filename: '/in.txt' }, offset: { position: 29 } }] },
      },
      'PATCH /connectors/s/offsets': {
        status: 200,
        body: { message: 'The offsets for this connector have been altered successfully' },
      },
    });
    const env = { ERPSTREAM_CONNECT_URL: fake.url };
    expect((await runConnectCli(['offsets', 'get', 's'], { env })).stdout).toBe(
      'PARTITION               OFFSET\n{"filename":"/in.txt"}  {"position":29}\n',
    );
    const dry = await runConnectCli(
      ['offsets', 'set', 's', '--kafka-topic', 't', '--kafka-partition', '0', '--kafka-offset', '5', '--dry-run'],
      { env },
    );
    expect(dry.stdout).toContain('dry run: would send to connector "s":');
    expect(fake.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
    const set = await runConnectCli(
      ['offsets', 'set', 's', '--kafka-topic', 't', '--kafka-partition', '0', '--kafka-offset', '5'],
      { env },
    );
    expect(set).toMatchObject({ code: 0, stdout: 'The offsets for this connector have been altered successfully\n' });
    expect(JSON.parse(fake.requests.at(-1)!.body)).toEqual({
      offsets: [{ partition: { kafka_topic: 't', kafka_partition: 0 }, offset: { kafka_offset: 5 } }],
    });
  });

  it('reset --dry-run on a RUNNING connector says the real reset needs it stopped first', async () => {
    const offsets = { offsets: [{ partition: { filename: '/in.txt' }, offset: { position: 29 } }] };
    const status = (state: string) => ({
      status: 200,
      body: { name: 's', connector: { state, worker_id: 'w:8083' }, tasks: [], type: 'source' },
    });
    fake = await startFakeConnect({
      'GET /connectors/s/offsets': { status: 200, body: offsets },
      'GET /connectors/s/status': [status('RUNNING'), status('STOPPED')],
    });
    const env = { ERPSTREAM_CONNECT_URL: fake.url };
    const running = await runConnectCli(['offsets', 'reset', 's', '--dry-run'], { env });
    expect(running.code).toBe(0);
    expect(running.stdout).toBe(
      'dry run: 1 offset(s) of connector "s" would be reset; but the connector is RUNNING: run `erpstream connectors stop s` first, or Connect refuses the reset\n',
    );
    const stopped = await runConnectCli(['offsets', 'reset', 's', '--dry-run'], { env });
    expect(stopped.stdout).toBe('dry run: 1 offset(s) of connector "s" would be reset\n');
    expect(fake.requests.some((r) => r.method === 'DELETE')).toBe(false);
  });
});

import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runRecords } from '../../../../cli/transforms-run/runner.js';
import { TransformChain } from '../../../../runtime/transforms/index.js';
import { testRegistry } from '../../runtime/transforms/test-plugins.js';

const registry = testRegistry();

async function run(
  config: Record<string, unknown>,
  lines: string[],
  opts: { tolerance?: 'none' | 'all'; dlq?: boolean } = {},
) {
  const chain = await TransformChain.build(config, { registry });
  const collect = (s: PassThrough) => {
    const chunks: string[] = [];
    s.on('data', (c: Buffer) => chunks.push(c.toString()));
    return chunks;
  };
  const output = new PassThrough();
  const errors = new PassThrough();
  const dlq = opts.dlq ? new PassThrough() : null;
  const out = collect(output);
  const err = collect(errors);
  const dlqOut = dlq ? collect(dlq) : [];
  const summary = await runRecords({
    chain,
    input: Readable.from([lines.join('\n') + '\n']),
    inputName: 'records.jsonl',
    output,
    errors,
    dlq,
    tolerance: opts.tolerance ?? 'none',
    connectorName: 'crm-cleanup',
    json: { decimalFormat: 'NUMERIC' },
  });
  return { summary, out: out.join(''), err: err.join(''), dlq: dlqOut.join('') };
}

const appendA = { transforms: 'a', 'transforms.a.type': 'AppendTopic', 'transforms.a.suffix': '.clean' };

describe('runRecords', () => {
  it('writes one line per kept record, nothing for a dropped one, and skips blank lines', async () => {
    const config = {
      ...appendA,
      transforms: 'dropPeople,a',
      'transforms.dropPeople.type': 'Drop',
      'transforms.dropPeople.predicate': 'isPeople',
      predicates: 'isPeople',
      'predicates.isPeople.type': 'TopicIs',
      'predicates.isPeople.topic': 'people',
    };
    const r = await run(config, ['{"topic":"orders","value":{"n":1}}', '', '{"topic":"people","value":{}}']);
    expect(r.out).toBe(
      '{"topic":"orders.clean","partition":null,"key":null,"value":{"n":1},"headers":{},"timestamp":null}\n',
    );
    expect(r.summary).toMatchObject({ read: 2, written: 1, dropped: 1, failed: 0, fatal: null });
  });

  it('stops at the first failing record with tolerance none, naming line and alias', async () => {
    const r = await run({ transforms: 'cast', 'transforms.cast.type': 'Fail' }, [
      '{"topic":"t","value":{}}',
      '{"topic":"t","value":{}}',
    ]);
    expect(r.summary.fatal).toEqual({
      line: 1,
      kind: 'record',
      message: `Transform 'cast' (test.transforms.Fail) failed: Cannot cast "abc" to int32 for field: "order.qty"`,
    });
    expect(r.summary.read).toBe(1);
  });

  it('stops at a line that is not JSON, naming the column', async () => {
    const r = await run(appendA, ['{"topic":"t","value":{}}', '{"topic": "t", "value": {x}}']);
    expect(r.summary.fatal?.line).toBe(2);
    expect(r.summary.fatal?.kind).toBe('json');
    expect(r.summary.fatal?.message).toMatch(/^invalid JSON at column 26 \(position 25\)/);
    expect(r.out.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('with tolerance all, writes failing records to the DLQ with Connect context and goes on', async () => {
    const config = {
      transforms: 'fail',
      'transforms.fail.type': 'Fail',
      'transforms.fail.predicate': 'isBad',
      predicates: 'isBad',
      'predicates.isBad.type': 'TopicIs',
      'predicates.isBad.topic': 'bad',
    };
    const r = await run(
      config,
      [
        '{"topic":"bad","partition":2,"offset":7,"value":{"qty":"abc"},"headers":{"src":"erp"}}',
        '{"topic":"ok","value":1}',
      ],
      { tolerance: 'all', dlq: true },
    );
    expect(r.summary).toMatchObject({ read: 2, written: 1, failed: 1, fatal: null });
    const dead = JSON.parse(r.dlq) as { value: unknown; headers: Record<string, string> };
    expect(dead.value).toEqual({ qty: 'abc' });
    expect(dead.headers).toMatchObject({
      src: 'erp',
      '__connect.errors.topic': 'bad',
      '__connect.errors.partition': '2',
      '__connect.errors.offset': '7',
      '__connect.errors.connector.name': 'crm-cleanup',
      '__connect.errors.task.id': '0',
      '__connect.errors.stage': 'TRANSFORMATION',
      '__connect.errors.class.name': 'test.transforms.Fail',
      '__connect.errors.exception.class.name': 'DataError',
      '__connect.errors.exception.message': 'Cannot cast "abc" to int32 for field: "order.qty"',
      '__erpstream.errors.transform.alias': 'fail',
      '__erpstream.errors.field.path': 'order.qty',
      '__erpstream.errors.input.line': 'records.jsonl:1',
    });
    expect(dead.headers['__connect.errors.exception.stacktrace']).toContain('DataError');
  });

  it('with tolerance all and no DLQ, warns on stderr for each skipped record', async () => {
    const r = await run({ transforms: 'f', 'transforms.f.type': 'Fail' }, ['{"topic":"t","value":1}'], {
      tolerance: 'all',
    });
    expect(r.err).toContain('warning: records.jsonl:1: record skipped (errors.tolerance=all, no --dlq)');
    expect(r.summary.fatal).toBeNull();
  });

  it('reports a record whose payload does not match its schema as a converter failure', async () => {
    const r = await run(appendA, ['{"topic":"t","value":{"schema":{"type":"int32"},"payload":"x"}}'], {
      tolerance: 'all',
      dlq: true,
    });
    const dead = JSON.parse(r.dlq) as { headers: Record<string, string> };
    expect(dead.headers['__connect.errors.stage']).toBe('VALUE_CONVERTER');
  });

  it('ends quietly when the reader of the output goes away (EPIPE), without calling it a record error', async () => {
    const chain = await TransformChain.build(appendA, { registry });
    let writes = 0;
    const output = new Writable({
      write(_chunk, _enc, callback) {
        writes++;
        callback(writes > 1 ? Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) : null);
      },
    });
    const summary = await runRecords({
      chain,
      input: Readable.from([Array.from({ length: 50 }, () => '{"topic":"t","value":1}').join('\n')]),
      inputName: 'stdin',
      output,
      errors: new PassThrough(),
      dlq: null,
      tolerance: 'none',
      connectorName: 'c',
      json: {},
    });
    expect(summary).toMatchObject({ outputClosed: true, fatal: null, failed: 0 });
    expect(summary.read).toBeLessThan(50);
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO, runCliProcess } from '../cli-process.js';

/** End to end: the real CLI process, the real SMTs (Filter, TopicNameMatches, ReplaceField, Cast). */
const fixture = (name: string) => join(FIXTURES, name);
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'erpstream-transforms-run-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('erpstream transforms run', () => {
  it('applies the chain to schemaless and envelope records, drops filtered ones, keeps numbers exact', async () => {
    const r = await runCliProcess([
      'transforms',
      'run',
      '-c',
      fixture('crm-cleanup.json'),
      '-i',
      fixture('records.jsonl'),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2); // the .test topic record is filtered out; the blank line is skipped
    expect(lines[0]).toBe(
      '{"topic":"erp.SHPMT","partition":0,"key":"SH1","value":{"shipmentNo":"SH1","customerCode":"C0001","PKG_CNT":12,' +
        '"SHPMT_ID":9007199254740993,"NET_AMT":12345678901234.5678},"headers":{"src":"erp"},"timestamp":1700000000000}',
    );
    const enveloped = JSON.parse(lines[1]!) as {
      key: unknown;
      value: { schema: { fields: Array<{ field: string; type: string }> }; payload: unknown };
    };
    expect(enveloped.key).toEqual({ schema: { type: 'string', optional: false }, payload: 'SH3' });
    expect(enveloped.value.schema.fields.map((f) => `${f.field}:${f.type}`)).toEqual([
      'shipmentNo:string',
      'customerCode:string',
      'PKG_CNT:int32',
      'NET_AMT:bytes',
    ]);
    expect(lines[1]).toContain(
      '"payload":{"shipmentNo":"SH3","customerCode":"C0003","PKG_CNT":7,"NET_AMT":98765432109876.5432}',
    );
  });

  it('reads records from stdin', async () => {
    const input = '{"topic":"erp.SHPMT","value":{"SHPMT_NO":"SH9","Z_CUST_CD":"C9","PKG_CNT":"3"}}\n';
    const r = await runCliProcess(['transforms', 'run', '-c', fixture('crm-cleanup.json')], input);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ value: { shipmentNo: 'SH9', customerCode: 'C9', PKG_CNT: 3 } });
  });

  it('stops at a failing record with exit 2, naming the line, the alias and the field', async () => {
    const r = await runCliProcess([
      'transforms',
      'run',
      '-c',
      fixture('crm-cleanup.json'),
      '-i',
      fixture('bad-record.jsonl'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1); // the record before the failure was written
    expect(r.stderr).toContain('bad-record.jsonl:2:');
    expect(r.stderr).toContain("Transform 'cast' (org.apache.kafka.connect.transforms.Cast$Value) failed");
    expect(r.stderr).toContain('PKG_CNT');
    expect(r.stderr).toContain('hint:');
  });

  it('with errors.tolerance=all (YAML config), sends the failing record to --dlq and exits 0', async () => {
    const dlq = join(tmp, 'dlq.jsonl');
    const r = await runCliProcess([
      'transforms',
      'run',
      '-c',
      fixture('crm-cleanup-tolerant.yaml'),
      '-i',
      fixture('bad-record.jsonl'),
      '--dlq',
      dlq,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(r.stderr).toContain('3 records read, 2 written, 0 dropped, 1 to');
    const dead = (await readFile(dlq, 'utf8')).trimEnd().split('\n');
    expect(dead).toHaveLength(1);
    const record = JSON.parse(dead[0]!) as { value: unknown; headers: Record<string, string> };
    expect(record.value).toEqual({ SHPMT_NO: 'SH4', Z_CUST_CD: 'C0004', PKG_CNT: 'twelve' });
    expect(record.headers).toMatchObject({
      '__connect.errors.topic': 'erp.SHPMT',
      '__connect.errors.connector.name': 'crm-cleanup',
      '__connect.errors.task.id': '0',
      '__connect.errors.stage': 'TRANSFORMATION',
      '__connect.errors.class.name': 'org.apache.kafka.connect.transforms.Cast$Value',
      '__erpstream.errors.transform.alias': 'cast',
    });
    expect(record.headers['__connect.errors.exception.message']).toContain('twelve');
  });

  it('rejects a line that is not JSON with exit 2, naming the line and column', async () => {
    const r = await runCliProcess([
      'transforms',
      'run',
      '-c',
      fixture('crm-cleanup.json'),
      '-i',
      fixture('bad-json.jsonl'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-json\.jsonl:2: invalid JSON at column 48 \(position 47\)/);
  });

  it('rejects an unknown transform class with exit 2, naming the key and the class', async () => {
    const r = await runCliProcess([
      'transforms',
      'run',
      '-c',
      fixture('unknown-class.properties'),
      '-i',
      fixture('records.jsonl'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'error: Invalid value Foo for configuration transforms.t1.type: Class Foo could not be found.',
    );
    expect(r.stdout).toBe('');
  });

  it('exits 2 for an errors.tolerance the worker would refuse, naming the value; other errors.* keys do not matter', async () => {
    const config = join(tmp, 'bad-tolerance.json');
    // errors.retry.timeout is not used by a transforms run: a bad one there must not stop it.
    const base = { name: 'crm-cleanup', 'errors.retry.timeout': 'soon' };
    await writeFile(config, JSON.stringify({ ...base, 'errors.tolerance': 'skip' }));
    const r = await runCliProcess(['transforms', 'run', '-c', config, '-i', fixture('records.jsonl')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'error: Invalid value "skip" for configuration errors.tolerance: String must be one of: none, all',
    );
    expect(r.stderr).toContain('Set errors.tolerance to "none"');
    expect(r.stdout).toBe('');

    await writeFile(config, JSON.stringify({ ...base, 'errors.tolerance': 'all' }));
    const ok = await runCliProcess(['transforms', 'run', '-c', config, '-i', fixture('records.jsonl')]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });

  it('exits 2 for a missing records file, naming it', async () => {
    const noInput = await runCliProcess([
      'transforms',
      'run',
      '-c',
      fixture('crm-cleanup.json'),
      '-i',
      join(tmp, 'none.jsonl'),
    ]);
    expect(noInput.code).toBe(2);
    expect(noInput.stderr).toContain('none.jsonl');
  });

  it('runs the documented example', async () => {
    const r = await runCliProcess([
      'transforms',
      'run',
      '-c',
      join(REPO, 'examples/transforms/crm-cleanup.json'),
      '-i',
      join(REPO, 'examples/transforms/records.jsonl'),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
  });
});

describe('erpstream exit codes', () => {
  it('exits 2 for a usage error and for an invalid option value, naming it', async () => {
    const usage = await runCliProcess(['transforms', 'run']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("required option '-c, --config <file>' not specified");
    const demo = await runCliProcess(['demo', '--duration', 'soon']);
    expect(demo.code).toBe(2);
    expect(demo.stderr).toContain('soon');
  });
});

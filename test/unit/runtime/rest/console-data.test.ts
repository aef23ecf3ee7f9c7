import { describe, expect, it } from 'vitest';
import { openLookupSinkAdmin } from '../../../../connectors/lookup-sink/admin.js';
import { Headers, type SinkRecord, customerOf } from '../../../../runtime/api/index.js';
import { DLQ_HEADERS } from '../../../../runtime/errors/dlq.js';
import { REDRIVE_HEADERS, redrivenForOther } from '../../../../runtime/errors/redrive.js';
import type { ReadRecord } from '../../../../runtime/kafka/topic-reader.js';
import { tailRanges } from '../../../../runtime/kafka/topic-reader.js';
import { intParam, textParam } from '../../../../runtime/rest/console-common.js';
import { withoutUserInfo } from '../../../../runtime/rest/console-lineage.js';
import { dlqError, originalOf, shown } from '../../../../runtime/rest/console-dlq.js';
import { parseRedriveBody } from '../../../../runtime/rest/console-redrive.js';
import { HttpError } from '../../../../runtime/rest/http-error.js';

const b = (s: string) => Buffer.from(s);

describe('redrive scope (runtime/errors/redrive.ts)', () => {
  it('skips a redriven record in every connector but the one it was redriven for', () => {
    const h: Array<[string, Buffer | null]> = [
      ['erpstream.version', b('5')],
      [REDRIVE_HEADERS.connector, b('acme-sink')],
    ];
    expect(redrivenForOther(h, 'acme-sink')).toBe(false);
    expect(redrivenForOther(h, 'globex-sink')).toBe(true);
    expect(redrivenForOther(h, 'acme-sink2')).toBe(true);
    // A record that is no redrive goes to everyone; a null marker goes to no one.
    expect(redrivenForOther([['erpstream.version', b('5')]], 'x')).toBe(false);
    expect(redrivenForOther([], 'x')).toBe(false);
    expect(redrivenForOther([[REDRIVE_HEADERS.connector, null]], 'x')).toBe(true);
  });
});

describe('customer label', () => {
  it('is erpstream.integration, else the connector name', () => {
    expect(customerOf('acme-sink', { 'erpstream.integration': 'acme' })).toBe('acme');
    expect(customerOf('hand-made', {})).toBe('hand-made');
    expect(customerOf('hand-made', { 'erpstream.integration': '  ' })).toBe('hand-made');
  });
});

describe('tailRanges', () => {
  it('takes the last n offsets of each partition, never below the log start', () => {
    const offsets = new Map([
      [
        't',
        [
          { partition: 0, low: 0n, high: 10n },
          { partition: 1, low: 8n, high: 10n },
          { partition: 2, low: 5n, high: 5n },
        ],
      ],
    ]);
    expect(tailRanges(offsets, 3)).toEqual([
      { topic: 't', partition: 0, from: 7n, to: 10n },
      { topic: 't', partition: 1, from: 8n, to: 10n },
    ]);
  });
});

describe('parameters', () => {
  const q = (s: string) => new URLSearchParams(s);
  it('accepts integers in range and names the parameter otherwise', () => {
    expect(intParam(q(''), 'limit', 100, 1, 1000)).toBe(100);
    expect(intParam(q('limit=7'), 'limit', 100, 1, 1000)).toBe(7);
    for (const bad of ['limit=0', 'limit=1001', 'limit=-1', 'limit=1e3', 'limit=abc', 'limit=99999999999']) {
      expect(() => intParam(q(bad), 'limit', 100, 1, 1000)).toThrow(/limit/);
    }
  });
  it('refuses control characters and huge values in text parameters', () => {
    expect(textParam('acme', 'customer')).toBe('acme');
    expect(textParam(undefined, 'customer')).toBeNull();
    expect(() => textParam(undefined, 'key', true)).toThrow(/key is required/);
    expect(() => textParam('a\u0000b', 'key')).toThrow(HttpError);
    expect(() => textParam('x'.repeat(1001), 'key')).toThrow(/1000/);
    expect(() => textParam(42, 'connector')).toThrow(HttpError);
  });
});

describe('DLQ records', () => {
  const record = (headers: Array<[string, string]>): ReadRecord => ({
    topic: 'dlq',
    partition: 0,
    offset: 4n,
    timestamp: 1,
    key: b('{"id":1}'),
    value: b('{"op":"u"}'),
    headers: headers.map(([k, v]) => [k, b(v)]),
  });
  it('decodes Connect context headers and rebuilds the original record without them', () => {
    const r = record([
      ['erpstream.version', '7'],
      [REDRIVE_HEADERS.connector, 'old'],
      [DLQ_HEADERS.topic, 'erp.doc'],
      [DLQ_HEADERS.partition, '3'],
      [DLQ_HEADERS.offset, '99'],
      [DLQ_HEADERS.connectorName, 'acme-sink'],
      [DLQ_HEADERS.taskId, '1'],
      [DLQ_HEADERS.stage, 'TASK_PUT'],
      [DLQ_HEADERS.exceptionMessage, 'password hunter2 refused'],
    ]);
    const e = dlqError(r, (s) => s.replace('hunter2', '[hidden]'));
    expect(e).toMatchObject({
      originalTopic: 'erp.doc',
      originalPartition: 3,
      originalOffset: '99',
      connector: 'acme-sink',
      taskId: 1,
      stage: 'TASK_PUT',
      message: 'password [hidden] refused',
      exceptionClass: null,
    });
    const o = originalOf(r, e)!;
    expect(o).toMatchObject({ topic: 'erp.doc', partition: 3, offset: 99n });
    expect(o.headers.map(([k]) => k)).toEqual(['erpstream.version']);
    expect(dlqError(record([['x', 'y']]), (s) => s)).toBeNull();
    expect(originalOf(r, null)).toBeNull();
  });
  it('shows text as text and binary as base64', () => {
    expect(shown(b('{"a":1}'))).toEqual({ text: '{"a":1}', encoding: 'utf8' });
    expect(shown(Buffer.from([0, 0, 0, 0, 1, 2]))).toEqual({ text: 'AAAAAAEC', encoding: 'base64' });
    expect(shown(null)).toEqual({ text: null, encoding: 'utf8' });
  });
});

describe('redrive request body', () => {
  it('takes records or a filter, never both, and refuses anything else', () => {
    expect(parseRedriveBody({ connector: 'c', records: [{ partition: 0, offset: '12' }] })).toEqual({
      connector: 'c',
      limit: 10_000,
      records: [{ partition: 0, offset: 12n }],
    });
    expect(parseRedriveBody({ connector: 'c', filter: {}, limit: 5 })).toEqual({
      connector: 'c',
      limit: 5,
      filter: {},
    });
    const bad: unknown[] = [
      null,
      'x',
      [],
      {},
      { connector: 'c' },
      { connector: 'c', filter: {}, records: [] },
      { connector: 'c', records: [] },
      { connector: 'c', records: [{ partition: -1, offset: 0 }] },
      { connector: 'c', records: [{ partition: 0, offset: '1e3' }] },
      { connector: 'c', records: [{ partition: 0, offset: 1.5 }] },
      { connector: 'c', filter: { entityId: 1 } },
      { connector: 'c', filter: { __proto__: 'x', evil: 1 } },
      { connector: 'c', filter: [] },
      { connector: 'c', filter: {}, limit: 0 },
      { connector: 'c', filter: {}, target: 'other-topic' },
      { connector: 'c\u0000', filter: {} },
      { connector: 'c', records: Array.from({ length: 1001 }, () => ({ partition: 0, offset: 0 })) },
    ];
    for (const body of bad) expect(() => parseRedriveBody(body), JSON.stringify(body)).toThrow(HttpError);
  });
});

describe('LookupSink inspection capability', () => {
  const props = {
    'connector.class': 'LookupSink',
    topics: 'erp.document,erp.registration',
    'lookup.connection.url': 'postgresql://127.0.0.1:1/none',
    'lookup.table': 'erp.document',
    'lookup.key.columns': 'tenant,document_id',
    'entity.name': 'document',
    dependencies: 'registered',
    'dependencies.registered.type': 'field',
    'dependencies.registered.field': 'domain',
    'dependencies.registered.topic': 'erp.registration',
    'destination.type': 'kafka',
    'destination.topic': 'out',
  };
  const rec = (topic: string, key: unknown, version?: string): SinkRecord => ({
    topic,
    kafkaPartition: 0,
    kafkaOffset: 0n,
    keySchema: null,
    key,
    valueSchema: null,
    value: { op: 'u' },
    timestamp: 0,
    timestampType: 'CreateTime',
    headers: Headers.of(version === undefined ? {} : { 'erpstream.version': version }),
    originalTopic: topic,
    originalKafkaPartition: 0,
    originalKafkaOffset: 0n,
  });
  it('reads ids and versions as the task does, and parses compound keys (no database needed)', async () => {
    const admin = await openLookupSinkAdmin(props);
    try {
      expect(admin.entity).toBe('document');
      expect(admin.identify(rec('erp.document', { tenant: 'A', document_id: 1 }, '5'))).toEqual({
        entityId: '["A","1"]',
        version: 5n,
      });
      expect(admin.identify(rec('erp.document', { tenant: 'A', document_id: 1 }))).toEqual({
        entityId: '["A","1"]',
        version: null,
      });
      // A registration record names the entity but is no version of it.
      expect(admin.identify(rec('erp.registration', { tenant: 'A', document_id: 1 }, '5'))).toBeNull();
      expect(admin.identify(rec('erp.document', null, '5'))).toBeNull();
      expect(admin.parseKey('["A","1"]')).toBe('["A","1"]');
      expect(admin.parseKey('A, 1')).toBe('["A","1"]');
      expect(() => admin.parseKey('A')).toThrow(/2 parts/);
      expect(() => admin.parseKey('  ')).toThrow(/empty/);
    } finally {
      await admin.close();
    }
  });
});

describe('lineage targets', () => {
  it('never show URL credentials', () => {
    expect(withoutUserInfo('https://bob:s3cret@hooks.example.com/x?y=1')).toBe('https://hooks.example.com/x?y=1');
    expect(withoutUserInfo('https://hooks.example.com/a@b')).toBe('https://hooks.example.com/a@b');
    expect(withoutUserInfo('acme.documents')).toBe('acme.documents');
  });
});

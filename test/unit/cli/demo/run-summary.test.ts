import { describe, expect, it } from 'vitest';
import { emptyLedger } from '../../../../cli/demo/erp/simulator.js';
import { type DeliveredRows, type DlqRecord, renderSummary, summarize } from '../../../../cli/demo/summary.js';
import { plainStyle } from '../../../../cli/output.js';

const customers = [
  { code: 'AC01', domain: 'acme' },
  { code: 'GX01', domain: 'globex' },
];

function ledger() {
  const l = emptyLedger(customers);
  l.customers.acme!.rows.shipment.push('S1', 'S2');
  l.customers.acme!.rows.phone.push('7');
  l.customers.globex!.rows.shipment.push('S3');
  l.customers.globex!.poison.push({ entity: 'shipment', id: 'S4', reason: 'STAT_CD 77 is not in the table' });
  return l;
}

function delivered(rows: Record<string, string[]>): DeliveredRows[] {
  return Object.entries(rows).map(([k, ids]) => {
    const [customer, entity] = k.split('/') as [string, DeliveredRows['entity']];
    return { customer, entity, topic: `${customer}.${entity}s`, ids: new Set(ids) };
  });
}

const poisonInGlobexDlq: DlqRecord = {
  customer: 'globex',
  topic: 'globex.errors',
  id: 'S4',
  reason: 'unknown code 77',
};

describe('demo summary', () => {
  it('names a FAILED task with its trace, so "everything lost" comes with its reason (e.g. a Kafka client on an old Node)', () => {
    const failed = [
      'task demo-x-erp-source-0 FAILED: Tolerance exceeded in error handler (stage KAFKA_PRODUCE): Kafka producer could not connect',
    ];
    const s = summarize(ledger(), delivered({}), [], { mismatches: [] }, { failed });
    expect(s.ok).toBe(false);
    expect(s.failed).toEqual(failed);
    const text = renderSummary(s, plainStyle);
    expect(text).toContain('Failed on the worker at the end');
    expect(text).toContain(`  ${failed[0]}`);
    expect(text.indexOf(failed[0]!)).toBeLessThan(text.indexOf('MISMATCH'));
    expect(renderSummary(summarize(ledger(), delivered({}), [], { mismatches: [] }), plainStyle)).not.toContain(
      'Failed on the worker',
    );
  });

  it('is ok when every origin row is delivered to its customer and the poison row is in its DLQ', () => {
    const s = summarize(
      ledger(),
      delivered({ 'acme/shipment': ['S1', 'S2'], 'acme/phone': ['7'], 'globex/shipment': ['S3'] }),
      [poisonInGlobexDlq],
      { mismatches: [] },
    );
    expect(s.ok).toBe(true);
    expect(s.rows.find((r) => r.customer === 'acme' && r.entity === 'shipment')).toMatchObject({
      origin: 2,
      delivered: 2,
      missingCount: 0,
    });
    expect(s.poison).toEqual([
      {
        customer: 'globex',
        entity: 'shipment',
        id: 'S4',
        reason: 'STAT_CD 77 is not in the table',
        inDlq: true,
        dlqTopic: 'globex.errors',
      },
    ]);
    const text = renderSummary(s, plainStyle);
    expect(text).toContain('total: 4 of 4 origin rows delivered');
    expect(text).toContain('globex shipment S4: in globex.errors');
    expect(text).toContain('Nothing lost');
  });

  it('fails and names the ids when a row is lost', () => {
    const s = summarize(
      ledger(),
      delivered({ 'acme/shipment': ['S1'], 'acme/phone': ['7'], 'globex/shipment': ['S3'] }),
      [poisonInGlobexDlq],
      { mismatches: [] },
    );
    expect(s.ok).toBe(false);
    expect(s.rows.find((r) => r.customer === 'acme' && r.entity === 'shipment')).toMatchObject({
      delivered: 1,
      missing: ['S2'],
      missingCount: 1,
    });
    expect(renderSummary(s, plainStyle)).toContain('not delivered: S2');
    expect(renderSummary(s, plainStyle)).toContain('MISMATCH');
  });

  it('fails when a row reaches the wrong customer or the poison row is delivered instead of dead-lettered', () => {
    const s = summarize(
      ledger(),
      delivered({ 'acme/shipment': ['S1', 'S2', 'S3'], 'acme/phone': ['7'], 'globex/shipment': ['S3', 'S4'] }),
      [],
      { mismatches: [] },
    );
    expect(s.ok).toBe(false);
    expect(s.rows.find((r) => r.customer === 'acme' && r.entity === 'shipment')).toMatchObject({ unexpected: ['S3'] });
    expect(s.rows.find((r) => r.customer === 'globex' && r.entity === 'shipment')).toMatchObject({
      unexpected: ['S4'],
    });
    expect(s.poison[0]!.inDlq).toBe(false);
    expect(renderSummary(s, plainStyle)).toContain('NOT in the dead-letter topic');
  });

  it("fails on another customer's poison row in a customer's DLQ, and says whose it is", () => {
    const ok = delivered({ 'acme/shipment': ['S1', 'S2'], 'acme/phone': ['7'], 'globex/shipment': ['S3'] });
    const foreign: DlqRecord = { customer: 'acme', topic: 'acme.dlq', id: 'S4', reason: 'unknown code 77' };
    const s = summarize(ledger(), ok, [poisonInGlobexDlq, foreign], { mismatches: [] });
    expect(s.ok).toBe(false);
    expect(s.unexpectedDlq).toEqual([foreign]);
    const text = renderSummary(s, plainStyle);
    expect(text).toContain(
      "unexpected dead letter on acme.dlq: id S4: unknown code 77 (globex's poison row: acme's sink translated a row not its own)",
    );
    expect(text).toContain('MISMATCH');
  });

  it('fails on any other dead letter', () => {
    const ok = delivered({ 'acme/shipment': ['S1', 'S2'], 'acme/phone': ['7'], 'globex/shipment': ['S3'] });
    const stray: DlqRecord = { customer: 'acme', topic: 'acme.dlq', id: 'S1', reason: 'lookup failed' };
    const s = summarize(ledger(), ok, [poisonInGlobexDlq, stray], { mismatches: [] });
    expect(s.ok).toBe(false);
    expect(renderSummary(s, plainStyle)).toContain('unexpected dead letter on acme.dlq: id S1: lookup failed\n');
  });

  it("shows each customer's last received row and the sinks' lag", () => {
    const rows = delivered({ 'acme/shipment': ['S1', 'S2'], 'acme/phone': ['7'], 'globex/shipment': ['S3'] }).map(
      (d) => ({ ...d, sample: { id: d.entity === 'phone' ? '7' : 'S2', value: `{"entity":"${d.entity}"}` } }),
    );
    const s = summarize(ledger(), rows, [poisonInGlobexDlq], { mismatches: [] }, { sinkLag: 0 });
    expect(s.ok).toBe(true);
    expect(s.sinkLag).toBe(0);
    expect(s.samples.map((x) => `${x.customer}/${x.entity}`)).toEqual([
      'acme/shipment',
      'acme/phone',
      'globex/shipment',
    ]);
    const text = renderSummary(s, plainStyle);
    expect(text).toContain('total: 4 of 4 origin rows delivered; sink lag 0');
    expect(text).toContain('  acme shipment S2 on acme.shipments: {"entity":"shipment"}\n');
    expect(text).toContain('  globex shipment S2 on globex.shipments: {"entity":"shipment"}\n');
    expect(text).not.toContain('acme phone 7');
  });

  it('fails when a customer holds an older version of a row than the origin', () => {
    const rows = delivered({ 'acme/shipment': ['S1', 'S2'], 'acme/phone': ['7'], 'globex/shipment': ['S3'] });
    const versions = (d: DeliveredRows, v: Record<string, string>) => ({ ...d, versions: new Map(Object.entries(v)) });
    const withVersions = rows.map((d) =>
      d.customer === 'acme' && d.entity === 'shipment'
        ? versions(d, { S1: '10', S2: '12' })
        : versions(d, { '7': '3', S3: '5' }),
    );
    const latestVersions = new Map([
      ['shipment:S1', '10'],
      ['shipment:S2', '14'],
      ['phone:7', '3'],
      ['shipment:S3', '5'],
    ]);
    const s = summarize(ledger(), withVersions, [poisonInGlobexDlq], { mismatches: [] }, { latestVersions });
    expect(s.ok).toBe(false);
    expect(s.rows.find((r) => r.customer === 'acme' && r.entity === 'shipment')).toMatchObject({
      delivered: 2,
      stale: ['S2'],
      staleCount: 1,
    });
    expect(renderSummary(s, plainStyle)).toContain('delivered in an old version: S2');
    latestVersions.set('shipment:S2', '12');
    expect(summarize(ledger(), withVersions, [poisonInGlobexDlq], { mismatches: [] }, { latestVersions }).ok).toBe(
      true,
    );
  });

  it('fails when the origin side itself disagrees with the ledger', () => {
    const s = summarize(
      ledger(),
      delivered({ 'acme/shipment': ['S1', 'S2'], 'acme/phone': ['7'], 'globex/shipment': ['S3'] }),
      [poisonInGlobexDlq],
      {
        mismatches: ['change table: 3 changes of erp.shipment, the ledger wrote 4'],
      },
    );
    expect(s.ok).toBe(false);
    expect(renderSummary(s, plainStyle)).toContain('origin: change table: 3 changes');
  });
});

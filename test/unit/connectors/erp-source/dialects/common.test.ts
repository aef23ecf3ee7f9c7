import { describe, expect, it } from 'vitest';
import { DataError } from '../../../../../runtime/api/index.js';
import { readGapChanges, toChangeRow } from '../../../../../connectors/erp-source/dialects/common.js';
import { parseSettings } from '../../../../../connectors/erp-source/config.js';
import type { OpenTransactions } from '../../../../../connectors/erp-source/dialects/dialect.js';

describe('change rows', () => {
  const s = parseSettings({
    'connection.url': 'postgresql://h/db',
    'change.table': 'erp.change_log',
    'topic.prefix': 'erp',
    'change.table.key.columns': 'k1,k2',
  }).changeTable;

  it('maps operation codes and qualifies bare table names with the change table schema', () => {
    const r = toChangeRow({ seq: '42', table_name: 'shipment', op: 'U', k1: 7, k2: 'home' }, s, 'erp');
    expect(r).toEqual({ table: { schema: 'erp', table: 'shipment' }, key: ['7', 'home'], op: 'u', seq: 42n });
  });

  it('names the column and value of a bad change row', () => {
    expect(() => toChangeRow({ seq: '1', table_name: 't', op: 'X', k1: 1, k2: 2 }, s, 'erp')).toThrow(
      /"X" in column op/,
    );
    expect(() => toChangeRow({ seq: '1', table_name: 't', op: 'I', k1: null, k2: 2 }, s, 'erp')).toThrow(DataError);
  });
});

describe('gap evidence (readGapChanges)', () => {
  // Gap 5 is open since t=0 and past the 1 s timeout at t=10 s; nothing fills it.
  const cursor = { kind: 'gaps' as const, seq: '6', gaps: [['5', 0] as [string, number]] };
  const read = (age: OpenTransactions) =>
    readGapChanges(
      cursor,
      10,
      10_000,
      1_000,
      async () => [],
      async () => [],
      () => {
        throw new Error('no rows');
      },
      { openTransactionAge: async () => age },
    );

  it('gives a timed-out gap up only on current evidence that no transaction could hold it', async () => {
    expect((await read(null)).expiredGaps).toEqual(['5']);
    // A writer open for 20 s may hold it; one open for 1 s cannot (it began after the gap was seen).
    expect((await read(20_000)).expiredGaps).toEqual([]);
    expect((await read(1_000)).expiredGaps).toEqual(['5']);
  });

  it("keeps every gap when the evidence is stale (INNODB_TRX's cache) or was not read this time", async () => {
    const stale = await read('stale');
    expect(stale.expiredGaps).toEqual([]);
    expect(stale.end).toMatchObject({ gaps: [['5', 0]] });
    expect(stale.staleEvidence).toBe(true);
    const skipped = await read('not-checked');
    expect(skipped.expiredGaps).toEqual([]);
    expect(skipped.staleEvidence).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { type SourceRecord, type Struct, silentLogger } from '../../../../runtime/api/index.js';
import { parseSettings } from '../../../../connectors/erp-source/config.js';
import type { Cursor } from '../../../../connectors/erp-source/cursor.js';
import type { Dialect, SnapshotSession } from '../../../../connectors/erp-source/dialects/dialect.js';
import { pgColumn } from '../../../../connectors/erp-source/dialects/postgres.js';
import { buildTableSchemas } from '../../../../connectors/erp-source/envelope.js';
import { InitialSnapshot, type SnapshotState } from '../../../../connectors/erp-source/initial-snapshot.js';
import type { ChangeRow, RawRow, TableInfo } from '../../../../connectors/erp-source/model.js';

const table: TableInfo = {
  id: { schema: 'erp', table: 'item' },
  columns: [pgColumn('id', 'integer', false, true, null, null), pgColumn('note', 'text', true, false, null, null)],
  keyColumns: ['id'],
};
const schemas = new Map([['erp.item', buildTableSchemas('erp', table)]]);
const settings = parseSettings({
  'connection.url': 'postgresql://127.0.0.1:5432/erp',
  'change.table': 'erp.change_log',
  'topic.prefix': 'erp',
  'snapshot.fetch.size': '10',
});
const change = (seq: number, id: number, op: ChangeRow['op']): ChangeRow => ({
  table: table.id,
  key: [String(id)],
  op,
  seq: BigInt(seq),
});

/** A session over fixed rows and change rows (what a consistent snapshot transaction would see). */
function session(handoff: Cursor, rows: RawRow[], changes: ChangeRow[]): SnapshotSession {
  return {
    handoff,
    count: async () => rows.length,
    chunk: async (_t, after, limit) =>
      rows.filter((r) => after === null || Number(r.id) > Number(after[0])).slice(0, limit),
    changesAbove: async (after, limit, deletesOf) =>
      changes
        .filter((c) => c.seq > BigInt(after) && (!deletesOf || (deletesOf.includes('erp.item') && c.op === 'd')))
        .slice(0, limit),
    rows: async (_t, keys) => rows.filter((r) => keys.some((k) => k[0] === String(r.id))),
    close: async () => {},
  };
}

function snapshotOf(s: SnapshotSession, state: Partial<SnapshotState> = {}): InitialSnapshot {
  const dialect = { database: 'erp', defaultSchema: 'public', beginSnapshot: async () => s } as unknown as Dialect;
  return new InitialSnapshot(
    {
      dialect,
      settings,
      schemas,
      partition: (t) => ({ server: 'erp', table: t }),
      log: silentLogger,
      progress: () => {},
    },
    [{ table: 'erp.item', lastKey: null, rows: 0, total: null, handoff: null, deletesAfter: '0', ...state }],
  );
}

async function drain(snapshot: InitialSnapshot): Promise<{ records: SourceRecord[]; handoffs: unknown[] }> {
  const records: SourceRecord[] = [];
  const handoffs: unknown[] = [];
  while (snapshot.pending) {
    const step = await snapshot.poll();
    records.push(...step.records);
    handoffs.push(...step.handoffs);
  }
  return { records, handoffs };
}

const version = (r: SourceRecord) => r.headers.find((h) => h.key === 'erpstream.version')!.value;
const summary = (records: SourceRecord[]) =>
  records
    .filter((r) => r.value !== null)
    .map(
      (r) => `${(r.value as Struct).get('op') as string}:${String((r.key as Struct).get('id'))}@${String(version(r))}`,
    );

describe('InitialSnapshot: order and versions', () => {
  // Sequence 1..6 with 5 invisible (a transaction open at snapshot time): floor 4.
  const handoff: Cursor = { kind: 'gaps', seq: '6', gaps: [['5', 0]] };
  const changes = [change(1, 1, 'c'), change(2, 2, 'c'), change(3, 2, 'd'), change(4, 3, 'c'), change(6, 1, 'u')];
  const rows = [
    { id: '1', note: 'a' },
    { id: '3', note: 'c' },
    { id: '4', note: 'd' },
  ];

  it('emits the deletes whose rows are gone first, then the rows with versions ordered against the stream', async () => {
    const { records, handoffs } = await drain(snapshotOf(session(handoff, rows, changes)));
    expect(handoffs).toEqual([['erp.item', handoff]]);
    // 2 was deleted at 3 (its row is gone); 1 changed at 6 (above the floor) keeps 6; 3 and 4 get the floor 4,
    // below the change held at 5 that streaming emits later.
    expect(summary(records)).toEqual(['d:2@3', 'r:1@6', 'r:3@4', 'r:4@4']);
    expect(records[1]!.value).toBeNull(); // the delete's tombstone
    expect(records.at(-1)!.sourceOffset).toEqual({ stream: handoff });
    expect(records[0]!.sourceOffset).toMatchObject({ snapshot: { deletes_after: 'done' } });
  });

  it('resumed under an older hand-off, counts only what that hand-off covers', async () => {
    // The hand-off stored before the restart saw up to 4; the new transaction also sees 6 (on key 1) and a delete
    // of 4 at 7. Both are streamed from the old hand-off, so they must win: 1 gets the floor, 4's delete is left
    // to the stream.
    const older: Cursor = { kind: 'gaps', seq: '4', gaps: [] };
    const later = [...changes, change(7, 4, 'd')];
    const { records, handoffs } = await drain(
      snapshotOf(
        session(
          { kind: 'gaps', seq: '7', gaps: [] },
          rows.filter((r) => r.id !== '4'),
          later,
        ),
        { handoff: older },
      ),
    );
    expect(handoffs).toEqual([]);
    expect(summary(records)).toEqual(['d:2@3', 'r:1@4', 'r:3@4']);
  });

  it('resumes the rows after the last key, without the deletes already done', async () => {
    const { records } = await drain(
      snapshotOf(session(handoff, rows, changes), { handoff, lastKey: ['1'], rows: 1, deletesAfter: 'done' }),
    );
    expect(summary(records)).toEqual(['r:3@4', 'r:4@4']);
  });
});

import { ConfigError, DataError } from '../../../runtime/api/index.js';
import type { ChangeTableSettings } from '../config.js';
import { type GapCursor, advanceGapCursor } from '../cursor.js';
import type { ChangeOp, ChangeRow, TableId, TableInfo } from '../model.js';
import type { ChangeBatch, GapReadOptions, OpenTransactions, RawChange } from './dialect.js';

/** Splits `schema.table` (or a bare name, given the default schema). Quoted dots are not supported. */
export function parseTableName(name: string, defaultSchema: string): TableId {
  const parts = name.split('.');
  if (parts.length === 1) return { schema: defaultSchema, table: parts[0]! };
  if (parts.length === 2) return { schema: parts[0]!, table: parts[1]! };
  throw new ConfigError(`Table name ${JSON.stringify(name)} must be "table" or "schema.table"`);
}

/** The change-table columns a reader selects, in a fixed order. */
export function changeColumns(s: ChangeTableSettings): string[] {
  if (s.outbox) {
    const o = s.outbox;
    const cols = [
      s.sequenceColumn,
      o.idColumn,
      o.keyColumn,
      o.typeColumn,
      o.payloadColumn,
      o.routeColumn,
      ...o.extraColumns,
    ];
    return [...new Set([...cols, ...(s.timestampColumn ? [s.timestampColumn] : [])])];
  }
  return [
    s.sequenceColumn,
    s.tableColumn,
    s.operationColumn,
    ...s.keyColumns,
    ...(s.timestampColumn ? [s.timestampColumn] : []),
  ];
}

/** Checks that every configured change-table column exists; names the config key and column when not. */
export function checkChangeColumns(settings: ChangeTableSettings, info: TableInfo): void {
  const have = new Set(info.columns.map((c) => c.name));
  const o = settings.outbox;
  const wanted: Array<[string, string]> = o
    ? [
        ['change.table.sequence.column', settings.sequenceColumn],
        ['outbox.field.event.id', o.idColumn],
        ['outbox.field.event.key', o.keyColumn],
        ['outbox.field.event.type', o.typeColumn],
        ['outbox.field.event.payload', o.payloadColumn],
        ['outbox.route.by.field', o.routeColumn],
      ]
    : [
        ['change.table.sequence.column', settings.sequenceColumn],
        ['change.table.table.column', settings.tableColumn],
        ['change.table.operation.column', settings.operationColumn],
        ...settings.keyColumns.map((k): [string, string] => ['change.table.key.columns', k]),
        ...(settings.timestampColumn
          ? [['change.table.timestamp.column', settings.timestampColumn] as [string, string]]
          : []),
      ];
  for (const [key, col] of wanted) {
    if (!have.has(col)) {
      throw ConfigError.invalid(
        key,
        col,
        `Column not found in change table ${info.id.schema}.${info.id.table} (columns: ${[...have].join(', ')})`,
      );
    }
  }
}

export function toChangeRow(raw: RawChange, s: ChangeTableSettings, changeTableSchema: string): ChangeRow {
  if (s.outbox) {
    // An outbox row is the event itself: it belongs to the outbox table and keeps its columns.
    const key = raw[s.outbox.keyColumn];
    return {
      table: parseTableName(s.table, changeTableSchema),
      key: [key === null || key === undefined ? '' : String(key)],
      op: 'c',
      seq: BigInt(String(raw[s.sequenceColumn])),
      raw,
    };
  }
  const tableName = raw[s.tableColumn];
  if (typeof tableName !== 'string' || tableName === '') {
    throw new DataError(
      `Change row ${String(raw[s.sequenceColumn])} has no table name in column ${s.tableColumn}`,
      s.tableColumn,
    );
  }
  const opCode = String(raw[s.operationColumn] ?? '').trim();
  const op: ChangeOp | undefined =
    opCode === s.insertValue ? 'c' : opCode === s.updateValue ? 'u' : opCode === s.deleteValue ? 'd' : undefined;
  if (!op) {
    throw new DataError(
      `Change row ${String(raw[s.sequenceColumn])} has operation ${JSON.stringify(opCode)} in column ` +
        `${s.operationColumn}; expected one of ${s.insertValue}, ${s.updateValue}, ${s.deleteValue} ` +
        '(change.table.operation.values)',
      s.operationColumn,
    );
  }
  const key = s.keyColumns.map((k) => {
    const v = raw[k];
    if (v === null || v === undefined) {
      throw new DataError(`Change row ${String(raw[s.sequenceColumn])} has a null key in column ${k}`, k);
    }
    return Buffer.isBuffer(v) ? v.toString('hex') : String(v);
  });
  const ts = s.timestampColumn ? raw[s.timestampColumn] : undefined;
  const row: { -readonly [K in keyof ChangeRow]: ChangeRow[K] } = {
    table: changeTableId(tableName, changeTableSchema),
    key,
    op,
    seq: BigInt(String(raw[s.sequenceColumn])),
  };
  if (ts !== undefined && ts !== null) row.tsMs = toEpochMs(ts);
  return row;
}

/** Table ids of change rows, by name as written in the change table: a batch names the same few tables. */
const changeTableIds = new Map<string, TableId>();

function changeTableId(name: string, defaultSchema: string): TableId {
  const cacheKey = `${defaultSchema}\u0000${name}`;
  let id = changeTableIds.get(cacheKey);
  if (id === undefined) {
    id = Object.freeze(parseTableName(name.trim(), defaultSchema));
    if (changeTableIds.size >= 10_000) changeTableIds.clear();
    changeTableIds.set(cacheKey, id);
  }
  return id;
}

function toEpochMs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  const text = String(v).trim().replace(' ', 'T');
  // Timestamps without a zone are taken as UTC (sessions run in UTC).
  const ms = Date.parse(/[zZ]|[+-]\d\d(:?\d\d)?$/.test(text) ? text : `${text}Z`);
  return Number.isNaN(ms) ? Date.now() : ms;
}

/**
 * A transaction that holds a gap's number started before the gap was seen, so it has been open at least as long
 * as the gap. `trx_started` has whole seconds (rounded down: ages come out longer, the safe side); the margin
 * covers the time between the poll's clock reading and the evidence query.
 */
const EVIDENCE_MARGIN_MS = 1000;

/**
 * Gap-tracking read shared by every dialect: the next page above the high mark plus the rows of open gaps (and
 * of numbers given up earlier, `options.recheck`), then `advanceGapCursor` decides positions, new gaps and which
 * timed-out gaps are given up. With `openTransactionAge` (evidence), a gap past the timeout is kept while a
 * transaction open at least as long as the gap is still running. The evidence is read *before* the gaps are
 * re-read: a holder that ended before it was read has committed (its row is then read) or rolled back.
 */
export async function readGapChanges(
  cursor: GapCursor,
  limit: number,
  nowMs: number,
  gapTimeoutMs: number,
  readAbove: (seq: string, limit: number) => Promise<RawChange[]>,
  readSeqs: (seqs: string[]) => Promise<RawChange[]>,
  toRow: (raw: RawChange) => ChangeRow,
  options: GapReadOptions & { openTransactionAge?: () => Promise<OpenTransactions> } = {},
): Promise<ChangeBatch> {
  let mayBeHeld: ((sinceMs: number) => boolean) | undefined;
  let stale = false;
  if (options.openTransactionAge && cursor.gaps.some(([, since]) => nowMs - since >= gapTimeoutMs)) {
    const age = await options.openTransactionAge();
    stale = age === 'stale';
    // Evidence that was not read, or not provably current, gives nothing up: a gap only costs a re-read.
    mayBeHeld =
      typeof age === 'string' ? () => true : (since) => age !== null && age + EVIDENCE_MARGIN_MS >= nowMs - since;
  }
  const above = await readAbove(cursor.seq, limit);
  const fills: RawChange[] = [];
  const recheck = options.recheck ?? [];
  const gapSeqs = [...cursor.gaps.map(([g]) => g), ...recheck];
  for (let i = 0; i < gapSeqs.length; i += 1000) fills.push(...(await readSeqs(gapSeqs.slice(i, i + 1000))));
  const rows = [...fills, ...above].map(toRow);
  const step = advanceGapCursor(cursor, rows, nowMs, gapTimeoutMs, mayBeHeld);
  const wanted = new Set(recheck);
  const late = wanted.size === 0 ? [] : rows.filter((r) => wanted.has(String(r.seq))).map((r) => String(r.seq));
  return {
    rows: step.rows,
    positions: step.positions,
    end: step.end,
    expiredGaps: step.expired,
    cappedGaps: step.capped,
    full: above.length >= limit,
    ...(late.length > 0 ? { late } : {}),
    ...(recheck.length > 0 ? { rechecked: recheck } : {}),
    ...(stale ? { staleEvidence: true as const } : {}),
  };
}

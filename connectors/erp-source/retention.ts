import { ConfigError, type Logger } from '../../runtime/api/index.js';
import type { ErpSourceSettings } from './config.js';
import type { Cursor } from './cursor.js';
import type { Dialect } from './dialects/dialect.js';
import type { TableSchemas } from './envelope.js';

/** What the start-up retention checks read with; they never call back into the task. */
export interface RetentionDeps {
  readonly dialect: Dialect;
  readonly settings: ErpSourceSettings;
  readonly schemas: ReadonlyMap<string, TableSchemas>;
  readonly log: Logger;
}

/**
 * The tables whose stored position reaches below what the change table still holds: a sequence high mark (gap
 * tracking: its `seq`; transaction watermark: the highest sequence read) below the lowest row minus one means rows
 * were purged before they were read.
 */
export function purgedPast(positions: ReadonlyArray<readonly [table: string, seq: string]>, low: bigint): string[] {
  return positions.filter(([, seq]) => BigInt(seq) + 1n < low).map(([table]) => table);
}

/**
 * Start-up checks of the stored positions against what the database still holds (purged change rows, Change
 * Tracking cleanup). Returns the tables to snapshot again (snapshot.mode=when_needed; removed from `doneAt`);
 * otherwise a lost history refuses the start with a ConfigError naming snapshot.mode. `snapshotting`: tables
 * already due for a snapshot, not checked.
 */
export async function tablesLostToRetention(
  deps: RetentionDeps,
  doneAt: Map<string, Cursor>,
  snapshotting: ReadonlySet<string>,
): Promise<string[]> {
  await giveWatermarkPositionsAHighMark(deps.dialect, doneAt);
  const lost: string[] = [];
  const give = (table: string, msg: string): void => {
    if (deps.settings.snapshotMode !== 'when_needed') {
      throw new ConfigError(`${msg}; changes were lost. Use snapshot.mode=when_needed to re-snapshot`, 'snapshot.mode');
    }
    deps.log.warn(`${msg}; re-snapshotting (snapshot.mode=when_needed)`, { table });
    doneAt.delete(table);
    lost.push(table);
  };
  // With outbox.delete.processed the connector deletes rows itself: a low mark above its position is expected.
  if (!deps.settings.changeTable.outbox?.deleteProcessed) {
    const checked = [...doneAt]
      .filter(([t]) => !snapshotting.has(t))
      .map(([t, c]) => [t, c.kind === 'gaps' || c.kind === 'xid' ? c.seq : undefined] as const)
      .filter((e): e is readonly [string, string] => e[1] !== undefined);
    const low = checked.length > 0 ? await deps.dialect.lowestSequence() : null;
    if (low !== null) {
      for (const table of purgedPast(checked, low)) {
        const seq = checked.find(([t]) => t === table)![1];
        give(
          table,
          `Change rows after sequence ${seq} (the stored position of ${table}) were purged from ` +
            `${deps.settings.changeTable.table} before they were read (lowest sequence now ${low})`,
        );
      }
    }
  }
  // Change Tracking: a stored version below CHANGE_TRACKING_MIN_VALID_VERSION means cleanup removed changes.
  for (const [table, cursor] of [...doneAt]) {
    if (cursor.kind !== 'ct' || snapshotting.has(table)) continue;
    const min = await deps.dialect.minValidVersion!(deps.schemas.get(table)!.table);
    if (min === null || BigInt(cursor.version) >= min) continue;
    give(
      table,
      `Change Tracking history of ${table} after version ${cursor.version} (its stored position) was cleaned ` +
        `up (CHANGE_TRACKING_MIN_VALID_VERSION is ${min})`,
    );
  }
  return lost;
}

/**
 * Watermark positions written before they carried a sequence high mark (or an outbox's first position) get
 * the change table's current highest sequence: too high rather than too low, so a purge is missed at worst
 * once, never reported when nothing was lost.
 */
async function giveWatermarkPositionsAHighMark(dialect: Dialect, doneAt: Map<string, Cursor>): Promise<void> {
  const bare = [...doneAt].filter(([, c]) => c.kind === 'xid' && c.seq === undefined);
  if (bare.length === 0) return;
  const now = await dialect.currentCursor();
  if (now.kind !== 'xid' || now.seq === undefined) return;
  for (const [table, c] of bare) doneAt.set(table, { ...c, seq: now.seq } as Cursor);
}

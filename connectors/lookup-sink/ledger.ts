import type { SqlClient } from './sql/client.js';
import { chunks, createTableIfAbsent, guardedUpsert, types, versionColumn } from './sql/ddl.js';

/** What the ledger holds for one (destination, entity, id). */
export interface LedgerEntry {
  readonly version: bigint;
  /** Where it went (topic or table); a delete goes there once the origin row is gone. */
  readonly target: string | null;
  readonly deleted: boolean;
}

export interface LedgerWrite extends LedgerEntry {
  readonly entityId: string;
}

const COLUMNS = ['destination', 'entity', 'entity_id', 'version', 'target', 'deleted', 'updated_at'];
const KEY = ['destination', 'entity', 'entity_id'];
const CHUNK = 500;

/**
 * The durable delivery ledger: (destination, entity, id) → delivered version. Staleness checks and ledger
 * dependencies read it; it only moves forward (a guarded upsert never lowers a version).
 */
export class DeliveryLedger {
  constructor(
    private readonly db: SqlClient,
    private readonly table: string,
  ) {}

  async init(): Promise<void> {
    const t = types(this.db);
    await createTableIfAbsent(
      this.db,
      this.table,
      `destination varchar(191) NOT NULL, entity varchar(191) NOT NULL, entity_id varchar(300) NOT NULL, ` +
        `version ${t.version} NOT NULL, target varchar(512) NULL, deleted ${t.bool} NOT NULL, updated_at ${t.long} NOT NULL, ` +
        `PRIMARY KEY (destination, entity, entity_id)`,
      [],
    );
  }

  /** Entries for these ids of one (destination, entity); ids absent from the result were never delivered. */
  async get(destination: string, entity: string, ids: readonly string[]): Promise<Map<string, LedgerEntry>> {
    const out = new Map<string, LedgerEntry>();
    for (const part of chunks([...new Set(ids)], CHUNK)) {
      const rows = await this.db.query(
        `SELECT entity_id, ${versionColumn(this.db)}, target, deleted FROM ${this.db.quote(this.table)} ` +
          `WHERE destination = ? AND entity = ? AND entity_id IN (${part.map(() => '?').join(', ')})`,
        [destination, entity, ...part],
      );
      for (const r of rows) {
        out.set(String(r.entity_id), {
          version: BigInt(String(r.version)),
          target: r.target === null || r.target === undefined ? null : String(r.target),
          deleted: r.deleted === true || r.deleted === 1 || r.deleted === '1',
        });
      }
    }
    return out;
  }

  /** Records deliveries; a lower version than the stored one changes nothing. */
  async record(destination: string, entity: string, writes: readonly LedgerWrite[]): Promise<void> {
    const latest = new Map<string, LedgerWrite>();
    for (const w of writes) {
      const cur = latest.get(w.entityId);
      if (!cur || cur.version < w.version) latest.set(w.entityId, w);
    }
    const now = Date.now();
    for (const part of chunks([...latest.values()], CHUNK)) {
      const sql = guardedUpsert(this.db, this.table, COLUMNS, KEY, 'version', part.length);
      const params = part.flatMap((w) => [destination, entity, w.entityId, w.version, w.target, w.deleted, now]);
      await this.db.execute(sql, params);
    }
  }
}

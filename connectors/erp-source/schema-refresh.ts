import type { Logger } from '../../runtime/api/index.js';
import type { ErpSourceSettings } from './config.js';
import type { Dialect } from './dialects/dialect.js';
import { type TableSchemas, buildTableSchemas } from './envelope.js';
import { type TableId, qualified } from './model.js';
import { assertCompatible, catalogFingerprints, diffTableSchemas } from './schema-change.js';

/** What schema refresh reads with; it never calls back into the task. */
export interface SchemaRefreshDeps {
  readonly dialect: Dialect;
  readonly settings: ErpSourceSettings;
  /** The task's schemas by `schema.table`: this object describes tables into it and replaces changed ones. */
  readonly schemas: Map<string, TableSchemas>;
  readonly log: Logger;
}

/**
 * The event schemas of the captured tables, kept current (schema.refresh.interval.ms): every interval one catalog
 * query for the fingerprints of all of them; tables whose fingerprint moved are described again and switch to the
 * new schema when it is compatible (an incompatible change throws the SchemaError that stops capture).
 */
export class SchemaRefresh {
  /** The catalog fingerprint of each captured table when its schema was read (null: refresh is off). */
  private fingerprints: Map<string, string> | null = null;
  private lastCheckMs = 0;

  constructor(private readonly deps: SchemaRefreshDeps) {}

  /**
   * Describes the tables. The fingerprints are taken before (when refresh is on): a change in between shows up as
   * a moved fingerprint, never as none.
   */
  async load(tables: readonly TableId[]): Promise<void> {
    if (this.deps.settings.schemaRefreshIntervalMs > 0) {
      this.fingerprints = await catalogFingerprints(this.deps.dialect, [...tables]);
      this.lastCheckMs = Date.now();
    }
    for (const id of tables) await this.describe(id);
  }

  /** Describes one table into the schemas. */
  async describe(id: TableId): Promise<TableSchemas> {
    const info = await this.deps.dialect.describe(id);
    const schemas = buildTableSchemas(this.deps.settings.topicPrefix, info);
    this.deps.schemas.set(qualified(id), schemas);
    return schemas;
  }

  /**
   * When the interval is up (or `force`d): re-describes the tables whose fingerprint moved. True when an event schema changed
   * (batches built with the old one must be dropped and read again).
   */
  async refreshDue(force = false): Promise<boolean> {
    const { settings, schemas, log } = this.deps;
    if (!this.fingerprints || (!force && Date.now() - this.lastCheckMs < settings.schemaRefreshIntervalMs)) {
      return false;
    }
    this.lastCheckMs = Date.now();
    const ids = [...schemas.values()].map((s) => s.table.id);
    const now = await catalogFingerprints(this.deps.dialect, ids);
    let changed = false;
    for (const id of ids) {
      const name = qualified(id);
      const fingerprint = now.get(name);
      if (fingerprint === undefined || fingerprint === this.fingerprints.get(name)) continue;
      const before = schemas.get(name)!;
      const after = await this.refreshTable(id);
      this.fingerprints.set(name, fingerprint);
      if (after !== before) changed = true;
      else log.info('Table catalog changed; event schema unchanged', { table: name });
    }
    return changed;
  }

  /**
   * Describes a table again and switches to the new schema when it is compatible (logged with what changed);
   * an incompatible change throws the SchemaError that stops capture. Returns the schemas in use afterwards.
   */
  async refreshTable(id: TableId): Promise<TableSchemas> {
    const { dialect, settings, schemas, log } = this.deps;
    const name = qualified(id);
    const current = schemas.get(name)!;
    const info = await dialect.describe(id);
    const diff = diffTableSchemas(current.table, info);
    if (diff.changes.length === 0 && diff.incompatible.length === 0) return current;
    assertCompatible(info, diff);
    const next = buildTableSchemas(settings.topicPrefix, info);
    schemas.set(name, next);
    log.info('Table schema changed; new schema in use', {
      table: name,
      changes: diff.changes,
      before: current.table.columns.map((c) => c.name),
      after: info.columns.map((c) => c.name),
    });
    return next;
  }
}

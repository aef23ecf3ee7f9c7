import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../runtime/api/index.js';
import { parseSettings } from '../../../../connectors/erp-source/config.js';
import type { Dialect } from '../../../../connectors/erp-source/dialects/dialect.js';
import { pgColumn } from '../../../../connectors/erp-source/dialects/postgres.js';
import type { TableSchemas } from '../../../../connectors/erp-source/envelope.js';
import type { ColumnInfo, TableInfo } from '../../../../connectors/erp-source/model.js';
import { SchemaRefresh } from '../../../../connectors/erp-source/schema-refresh.js';

const id = { schema: 'erp', table: 'item' };
const settings = (interval: string) =>
  parseSettings({
    'connection.url': 'postgresql://127.0.0.1:5432/erp',
    'change.table': 'erp.change_log',
    'topic.prefix': 'erp',
    'schema.refresh.interval.ms': interval,
  });

/** A catalog whose columns the test changes; fingerprints follow the columns, as the real catalog query's do. */
function catalog(columns: ColumnInfo[]): { dialect: Dialect; columns: ColumnInfo[] } {
  const state = { columns };
  const dialect = {
    quote: (c: string) => `"${c}"`,
    placeholder: (n: number) => `$${n}`,
    run: async () =>
      state.columns.map((c) => ({
        s: 'erp',
        t: 'item',
        c: c.name,
        dt: c.dbType,
        len: null,
        np: null,
        ns: null,
        dp: null,
        n: 'YES',
      })),
    describe: async (): Promise<TableInfo> => ({ id, columns: state.columns, keyColumns: ['id'] }),
  } as unknown as Dialect;
  return {
    dialect,
    get columns() {
      return state.columns;
    },
    set columns(c) {
      state.columns = c;
    },
  };
}

describe('SchemaRefresh: event schemas follow compatible catalog changes', () => {
  const idCol = pgColumn('id', 'integer', false, true, null, null);
  const note = pgColumn('note', 'text', true, false, null, null);

  it('re-describes a table whose fingerprint moved, once per interval, and says whether the event schema changed', async () => {
    const db = catalog([idCol]);
    const schemas = new Map<string, TableSchemas>();
    const refresh = new SchemaRefresh({ dialect: db.dialect, settings: settings('1'), schemas, log: silentLogger });
    await refresh.load([id]);
    const before = schemas.get('erp.item')!;
    await new Promise((r) => setTimeout(r, 5));
    expect(await refresh.refreshDue()).toBe(false); // nothing moved
    db.columns = [idCol, note];
    await new Promise((r) => setTimeout(r, 5));
    expect(await refresh.refreshDue()).toBe(true);
    expect(schemas.get('erp.item')).not.toBe(before);
    expect(schemas.get('erp.item')!.table.columns.map((c) => c.name)).toEqual(['id', 'note']);
  });

  it('is off without an interval: the schemas stay as described', async () => {
    const db = catalog([idCol]);
    const schemas = new Map<string, TableSchemas>();
    const refresh = new SchemaRefresh({ dialect: db.dialect, settings: settings('0'), schemas, log: silentLogger });
    await refresh.load([id]);
    db.columns = [idCol, note];
    expect(await refresh.refreshDue()).toBe(false);
    expect(schemas.get('erp.item')!.table.columns.map((c) => c.name)).toEqual(['id']);
  });
});

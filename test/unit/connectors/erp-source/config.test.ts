import { describe, expect, it } from 'vitest';
import { ConfigError, configKeyInfo } from '../../../../runtime/api/index.js';
import { erpSourceConfigDef, parseSettings, tableSelected } from '../../../../connectors/erp-source/config.js';
import { erpSourcePlugin } from '../../../../connectors/erp-source/index.js';

const base = {
  'connection.url': 'postgresql://127.0.0.1:5432/erp',
  'change.table': 'erp.change_log',
  'topic.prefix': 'erp',
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('ErpSource config', () => {
  it('declares the contract names and defaults of issue 4', () => {
    const s = parseSettings(base);
    expect(s).toMatchObject({
      captureMode: 'change_table',
      pollIntervalMs: 500,
      maxBatchSize: 512,
      snapshotMode: 'initial',
      tombstonesOnDelete: true,
      coalesce: true,
      heartbeatIntervalMs: 0,
      changeTable: {
        table: 'erp.change_log',
        sequenceColumn: 'seq',
        tableColumn: 'table_name',
        keyColumns: ['record_id'],
        operationColumn: 'op',
        insertValue: 'I',
        updateValue: 'U',
        deleteValue: 'D',
        timestampColumn: null,
      },
    });
    const names = erpSourceConfigDef.configKeys().map((k) => k.name);
    for (const n of [
      'connection.url',
      'connection.user',
      'connection.password',
      'capture.mode',
      'change.table.sequence.column',
      'table.include.list',
      'table.exclude.list',
      'heartbeat.interval.ms',
      'gap.timeout.ms',
      'snapshot.fetch.size',
      'signal.data.collection',
      'outbox.table',
      'timestamp.column.name',
      'incrementing.column.name',
    ]) {
      expect(names).toContain(n);
    }
    expect(erpSourcePlugin.className).toBe('erpstream.ErpSourceConnector');
    expect(erpSourcePlugin.aliases).toEqual(['ErpSource', 'ErpSourceConnector']);
  });

  it('treats connection.password as a secret and requires topic.prefix', () => {
    const key = erpSourceConfigDef.configKeys().find((k) => k.name === 'connection.password')!;
    expect(configKeyInfo(key).type).toBe('PASSWORD');
    const s = parseSettings({ ...base, 'connection.password': 's3cret' });
    expect(s.password).toBe('s3cret');
    const { 'topic.prefix': _, ...noPrefix } = base;
    expect(configError(() => parseSettings(noPrefix)).message).toContain('topic.prefix');
  });

  it('names the key and the value in validation errors', () => {
    const e = configError(() => parseSettings({ ...base, 'snapshot.mode': 'sometimes' }));
    expect(e.key).toBe('snapshot.mode');
    expect(e.message).toContain('Invalid value sometimes for configuration snapshot.mode');
    const ops = configError(() => parseSettings({ ...base, 'change.table.operation.values': 'I,U' }));
    expect(ops.key).toBe('change.table.operation.values');
    expect(ops.message).toContain('I,U');
    const re = configError(() => parseSettings({ ...base, 'table.include.list': 'erp\\.(ship' }));
    expect(re.message).toContain('Invalid value erp\\.(ship for configuration table.include.list');
    const prefix = configError(() => parseSettings({ ...base, 'topic.prefix': 'erp/prod' }));
    expect(prefix.key).toBe('topic.prefix');
  });

  it('never echoes a connection URL (it may carry a password) in errors', () => {
    const e = configError(() => parseSettings({ ...base, 'connection.url': 'oracle://scott:tiger@db/erp' }));
    expect(e.key).toBe('connection.url');
    expect(e.message).not.toContain('tiger');
  });

  it('configures outbox mode from the outbox.* keys and rejects modes not built yet by name', () => {
    const o = parseSettings({ ...base, 'capture.mode': 'outbox', 'outbox.table': 'erp.outbox' });
    expect(o.changeTable.table).toBe('erp.outbox');
    expect(o.changeTable.outbox).toEqual({
      idColumn: 'id',
      keyColumn: 'aggregateid',
      typeColumn: 'type',
      payloadColumn: 'payload',
      routeColumn: 'aggregatetype',
      topicReplacement: 'outbox.event.${routedByValue}',
      deleteProcessed: false,
      extraColumns: [],
    });
    expect(
      parseSettings({
        ...base,
        'capture.mode': 'outbox',
        'outbox.table': 'erp.outbox',
        'outbox.delete.processed': 'true',
      }).changeTable.outbox?.deleteProcessed,
    ).toBe(true);
    expect(configError(() => parseSettings({ ...base, 'capture.mode': 'outbox' })).key).toBe('outbox.table');
    const ct = configError(() => parseSettings({ ...base, 'capture.mode': 'change_tracking' }));
    expect(ct.key).toBe('capture.mode');
    expect(ct.message).toContain('Invalid value change_tracking for configuration capture.mode');
    expect(ct.message).toContain('sqlserver://');
    const onMssql = parseSettings({
      ...base,
      'capture.mode': 'change_tracking',
      'connection.url': 'sqlserver://erp-db:1433/erp',
    });
    expect(onMssql.changeTable.changeTracking).toBe(true);
  });

  it('timestamp_incrementing needs both columns and takes the lag and the overlap window', () => {
    const ts = { ...base, 'capture.mode': 'timestamp_incrementing' };
    expect(configError(() => parseSettings(ts)).key).toBe('timestamp.column.name');
    expect(configError(() => parseSettings({ ...ts, 'timestamp.column.name': 'updated_at' })).key).toBe(
      'incrementing.column.name',
    );
    const s = parseSettings({
      ...ts,
      'timestamp.column.name': 'updated_at',
      'incrementing.column.name': 'id',
      'timestamp.delay.interval.ms': '2000',
    });
    expect(s.tsinc).toEqual({
      timestampColumn: 'updated_at',
      incrementingColumn: 'id',
      delayMs: 2000,
      windowMs: 60000,
    });
  });

  it('requires change.table in change_table mode', () => {
    const { 'change.table': _, ...rest } = base;
    expect(configError(() => parseSettings(rest)).key).toBe('change.table');
  });

  it('selects tables like Debezium: full-match regexes on schema.table, exclude after include, never its own tables', () => {
    const s = parseSettings({
      ...base,
      'table.include.list': 'erp\\.ship.*,erp\\.doc',
      'table.exclude.list': '.*_old',
    });
    expect(tableSelected(s, 'erp.shipment')).toBe(true);
    expect(tableSelected(s, 'erp.doc')).toBe(true);
    expect(tableSelected(s, 'erp.document')).toBe(false); // full match, not prefix
    expect(tableSelected(s, 'xerp.doc')).toBe(false);
    expect(tableSelected(s, 'erp.shipment_old')).toBe(false);
    const all = parseSettings(base);
    expect(tableSelected(all, 'erp.anything')).toBe(true);
    expect(tableSelected(all, 'erp.change_log')).toBe(false);
  });
});

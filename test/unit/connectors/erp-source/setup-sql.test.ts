import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../runtime/api/index.js';
import {
  changeTableDdl,
  changeTableNotifyDdl,
  notifyChannel,
  outboxTableDdl,
} from '../../../../connectors/erp-source/setup-sql.js';
import { parseSettings } from '../../../../connectors/erp-source/config.js';
import { initSql } from '../../../../cli/erp/init-sql.js';

describe('commit wake-up SQL (PostgreSQL NOTIFY)', () => {
  it('is a statement-level trigger on the change table sending an empty notification on the default channel', () => {
    const [fn, trigger] = changeTableNotifyDdl('erp.change_log');
    expect(fn).toContain(`PERFORM pg_notify('erpstream.erp.change_log', '')`);
    expect(trigger).toMatch(/AFTER INSERT ON "erp"\."change_log"\s+FOR EACH STATEMENT/);
    expect(notifyChannel('erp', 'change_log')).toBe('erpstream.erp.change_log');
  });

  it('comes with the change table and the outbox table on PostgreSQL, and can be left out', () => {
    const shape = { changeTable: 'erp.change_log', keyColumns: ['record_id'] };
    expect(changeTableDdl('postgresql', shape).join('\n')).toContain('pg_notify(');
    expect(changeTableDdl('postgresql', { ...shape, notify: false }).join('\n')).not.toContain('pg_notify(');
    expect(outboxTableDdl('postgresql', 'erp.outbox').join('\n')).toContain(`pg_notify('erpstream.erp.outbox', '')`);
    expect(changeTableDdl('mysql', shape).join('\n')).not.toContain('NOTIFY');
    const init = initSql({
      dialect: 'postgresql',
      tables: [{ table: 'erp.shipment', keyColumns: ['ID'] }],
      changeTable: 'erp.change_log',
    });
    expect(init.statements.join('\n')).toContain(`pg_notify('erpstream.erp.change_log', '')`);
  });

  it('quotes a channel or names that carry quotes, and refuses a channel PostgreSQL would reject', () => {
    expect(changeTableNotifyDdl('erp.change_log', "it's")[0]).toContain(`pg_notify('it''s', '')`);
    expect(() => changeTableNotifyDdl(`erp.${'x'.repeat(60)}`)).toThrow(/longer than 63 bytes/);
  });
});

describe('commit wake-up and polling config', () => {
  const base = {
    'connection.url': 'postgresql://127.0.0.1/erp',
    'change.table': 'erp.change_log',
    'topic.prefix': 'erp',
  };

  it('is on by default, with adaptive polling between 50 and 500 ms', () => {
    const s = parseSettings(base);
    expect(s.notify).toEqual({ channel: null, minIntervalMs: 20, idleIntervalMs: 5000 });
    expect(s.pollIntervalMs).toBe(500);
    expect(s.pollIntervalMinMs).toBe(50);
    expect(parseSettings({ ...base, 'notify.enabled': 'false' }).notify).toBeNull();
  });

  it('caps poll.interval.min.ms at poll.interval.ms, so a short fixed interval keeps working', () => {
    expect(parseSettings({ ...base, 'poll.interval.ms': '10' }).pollIntervalMinMs).toBe(10);
  });

  it('names the key and the value of a bad setting', () => {
    const long = 'c'.repeat(64);
    expect(() => parseSettings({ ...base, 'notify.channel': long })).toThrow(ConfigError);
    expect(() => parseSettings({ ...base, 'notify.channel': long })).toThrow(
      /Invalid value c+ for configuration notify.channel: .*at most 63 bytes/,
    );
    expect(() => parseSettings({ ...base, 'notify.min.interval.ms': '-1' })).toThrow(/notify.min.interval.ms/);
    expect(() => parseSettings({ ...base, 'poll.interval.min.ms': '0' })).toThrow(/poll.interval.min.ms/);
  });
});

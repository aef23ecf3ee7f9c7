import { describe, expect, it } from 'vitest';
import { initSql } from '../../../../cli/erp/init-sql.js';

const tables = [{ table: 'erp.shipment', keyColumns: ['SHPMT_NO'] }];

describe('erp init grants', () => {
  it('gives a MariaDB/MySQL connector user PROCESS, which the source needs to give a sequence gap up', () => {
    const sql = initSql({ dialect: 'mysql', tables, changeTable: 'erp.change_log', user: 'erpstream' });
    expect(sql.statements).toContain("GRANT PROCESS ON *.* TO 'erpstream'@'%'");
    expect(sql.statements).toContain("GRANT SELECT ON `erp`.`change_log` TO 'erpstream'@'%'");
  });

  it('asks PostgreSQL for no server-wide privilege', () => {
    const sql = initSql({ dialect: 'postgresql', tables, changeTable: 'erp.change_log', user: 'erpstream' });
    expect(sql.statements.filter((s) => s.startsWith('GRANT') && !/ ON (SCHEMA )?"erp"/.test(s))).toEqual([]);
  });
});

import { type Command, Option } from 'commander';
import type { SetupDialect } from '../../connectors/erp-source/public.js';
import { collect, writeResult } from '../connect/command-kit.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { initSql, parseCapturedTable, renderScript } from '../erp/init-sql.js';

interface InitCliOptions {
  dialect: 'postgresql' | 'mysql' | 'mariadb' | 'sqlserver';
  table?: string[];
  changeTable?: string;
  user?: string;
  changeTracking?: boolean;
  database?: string;
  retentionDays: string;
  apply?: boolean;
  connectionUrl?: string;
}

/** `erpstream erp init`: prepare an ERP database for the ErpSource connector (print the SQL, or run it). */
export function registerErpCommands(program: Command, ctx: CliContext): void {
  const group = program
    .command('erp')
    .description('prepare ERP databases for capture: change tables, triggers, grants');
  group
    .command('init')
    .description('print (or run with --apply) the change table, triggers and grants for the captured tables')
    .addOption(
      new Option('--dialect <dialect>', 'the ERP database')
        .choices(['postgresql', 'mysql', 'mariadb', 'sqlserver'])
        .makeOptionMandatory(),
    )
    .option('-t, --table <schema.table:keys>', 'a captured table and its key columns (repeatable)', collect)
    .option('--change-table <schema.table>', 'the change table (default: <schema of the first table>.change_log)')
    .option('--user <name>', "the connector's database user: granted read access to what it reads")
    .option('--change-tracking', 'SQL Server Change Tracking instead of a change table and triggers')
    .option('--database <name>', 'with --change-tracking: the database to enable it on')
    .option('--retention-days <n>', 'with --change-tracking: CHANGE_RETENTION in days', '2')
    .option('--apply', 'run the statements (in order, stopping at the first error) instead of printing them')
    .option('--connection-url <url>', 'with --apply: the database (default: ERP_DB_URL)')
    .addHelpText(
      'after',
      '\nExample:\n  erpstream erp init --dialect postgresql --table erp.shipment:SHPMT_NO --table erp.person:PERS_ID --user erpstream\n',
    )
    .action(async (opts: InitCliOptions) => {
      const dialect: SetupDialect = opts.dialect === 'mariadb' ? 'mysql' : opts.dialect;
      const tables = (opts.table ?? []).map(parseCapturedTable);
      const retentionDays = Number(opts.retentionDays);
      if (opts.changeTracking && !opts.database) {
        throw CliError.invalidInput(
          '--change-tracking needs --database <name>.',
          'Name the ERP database to enable it on.',
        );
      }
      if (!Number.isInteger(retentionDays) || retentionDays < 1) {
        throw CliError.invalidInput(
          `--retention-days "${opts.retentionDays}" is not a whole number of days.`,
          'e.g. 2',
        );
      }
      const sql = initSql({
        dialect,
        tables,
        changeTable: opts.changeTable ?? `${tables[0]?.table.split('.')[0] ?? 'erp'}.change_log`,
        ...(opts.user ? { user: opts.user } : {}),
        ...(opts.changeTracking ? { changeTracking: { database: opts.database!, retentionDays } } : {}),
      });
      if (!opts.apply) {
        writeResult(ctx, sql, () => renderScript(dialect, sql));
        return;
      }
      const url = opts.connectionUrl ?? ctx.env.ERP_DB_URL;
      if (!url) {
        throw CliError.invalidInput('--apply needs the database.', 'Pass --connection-url <url> or set ERP_DB_URL.');
      }
      const { runStatements } = await import('../erp/apply-sql.js');
      const done = await runStatements(dialect, url, sql.statements);
      writeResult(ctx, { applied: done, connectorConfig: sql.connectorConfig }, () =>
        [
          `Ran ${done} statements on the ${opts.dialect} database.\n`,
          'ErpSource connector settings that match:\n',
          ...Object.entries(sql.connectorConfig).map(([k, v]) => `  ${k}=${v}\n`),
        ].join(''),
      );
    });
}

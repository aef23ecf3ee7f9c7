import { ConfigError } from '../../../runtime/api/index.js';
import type { ErpSourceSettings } from '../config.js';
import type { Dialect } from './dialect.js';
import { MysqlDialect } from './mysql.js';
import { PostgresDialect } from './postgres.js';
import { SqlServerDialect } from './sqlserver.js';

export type { ChangeBatch, Dialect, SnapshotSession } from './dialect.js';

/** Picks the dialect from the connection.url scheme. */
export function createDialect(settings: Pick<ErpSourceSettings, 'url' | 'user' | 'password'>): Dialect {
  const scheme = settings.url.split('://')[0]!.toLowerCase();
  const options = { url: settings.url, user: settings.user, password: settings.password };
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return new PostgresDialect(options);
    case 'mysql':
    case 'mariadb':
      return new MysqlDialect(options);
    case 'sqlserver':
    case 'mssql':
      return new SqlServerDialect(options);
    default:
      throw ConfigError.invalid('connection.url', `${scheme}://…`, 'Unsupported database scheme');
  }
}

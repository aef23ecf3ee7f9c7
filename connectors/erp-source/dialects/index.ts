import { ConfigError } from '../../../runtime/api/index.js';
import { sqlKindOfUrl, urlScheme } from '../../shared/sql/index.js';
import type { ErpSourceSettings } from '../config.js';
import type { Dialect } from './dialect.js';
import { MysqlDialect } from './mysql.js';
import { PostgresDialect } from './postgres.js';
import { SqlServerDialect } from './sqlserver.js';

export type { ChangeBatch, Dialect, SnapshotSession } from './dialect.js';

/** Picks the dialect from the connection.url scheme. */
export function createDialect(settings: Pick<ErpSourceSettings, 'url' | 'user' | 'password'>): Dialect {
  const options = { url: settings.url, user: settings.user, password: settings.password };
  switch (sqlKindOfUrl(settings.url)) {
    case 'postgresql':
      return new PostgresDialect(options);
    case 'mysql':
      return new MysqlDialect(options);
    case 'sqlserver':
      return new SqlServerDialect(options);
    case null:
      throw ConfigError.invalid('connection.url', urlScheme(settings.url), 'Unsupported database scheme');
  }
}

import { ConfigError } from '../../../runtime/api/index.js';
import {
  type ConnectionOptions,
  type SqlClient,
  type SqlKind,
  openSqlClient as openShared,
  sqlKindOfUrl,
  urlScheme,
} from '../../shared/sql/index.js';

// The sink's databases are reached through the connectors' shared SQL layer (connectors/shared/sql).
export type { ConnectionOptions, Row, SqlClient } from '../../shared/sql/index.js';
export { bindable, isoLocalTimestamp } from '../../shared/sql/index.js';

export type DialectKind = SqlKind;

export function dialectOf(url: string, key: string): DialectKind {
  const kind = sqlKindOfUrl(url);
  if (kind === null) {
    throw ConfigError.invalid(
      key,
      urlScheme(url),
      'Expected a postgresql://, mysql://, mariadb:// or sqlserver:// URL',
    );
  }
  return kind;
}

/** Opens a pooled client for the URL's database. */
export function openSqlClient(options: ConnectionOptions): Promise<SqlClient> {
  return openShared(dialectOf(options.url, options.urlKey), options, 'erpstream-lookup-sink');
}

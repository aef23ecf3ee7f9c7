import { ConfigError, type ConfigValueResult, type SinkConnector, isLoginRefused } from '../../runtime/api/index.js';
import { type DbSettings, type LookupSinkSettings, parseLookupSinkConfig } from './config.js';
import { openSqlClient } from './sql/client.js';
import { LOOKUP_SINK_VERSION } from './version.js';

/**
 * The connector only checks the config and hands it to its tasks: ordering is per key and Kafka assigns the
 * partitions, so every task runs the same config.
 */
export class LookupSinkConnector implements SinkConnector {
  readonly kind = 'sink' as const;
  private props: Record<string, string> = {};

  version(): string {
    return LOOKUP_SINK_VERSION;
  }

  start(props: Readonly<Record<string, string>>): void {
    parseLookupSinkConfig(props);
    this.props = { ...props };
  }

  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    return Array.from({ length: maxTasks }, () => ({ ...this.props }));
  }

  stop(): void {}

  /**
   * Cross-field checks (exactly one of lookup.table/lookup.query, dependency blocks) reported on their key, then a
   * login to each database given a password, so a wrong one shows on that database's password key.
   */
  async validate(props: Readonly<Record<string, string>>): Promise<ConfigValueResult[]> {
    let settings: LookupSinkSettings;
    try {
      settings = parseLookupSinkConfig(props);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const name = e.key ?? 'lookup.table';
      return [{ name, value: props[name] ?? null, recommendedValues: [], errors: [e.message], visible: true }];
    }
    return refusedLogins(settings);
  }

  alterOffsets(): boolean {
    return true;
  }
}

function urlHasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

/**
 * A refused login to the lookup, ledger or jdbc destination database, on its password key (`lookup.connection.password`,
 * …; the message names no secret). Any other connection failure is left to the tasks' start, as before: a database
 * out of reach from where the config is validated may be in reach of the workers.
 */
async function refusedLogins(s: LookupSinkSettings): Promise<ConfigValueResult[]> {
  const out: ConfigValueResult[] = [];
  const tried = new Set<string>();
  const dbs: DbSettings[] = [s.lookup, s.ledger, ...(s.destination.type === 'jdbc' ? [s.destination.db] : [])];
  for (const d of dbs) {
    const k = JSON.stringify([d.url, d.user, d.password]);
    // Without a password there is no wrong one to show (and a config checked offline opens no connection).
    if (tried.has(k) || (d.password === null && !urlHasPassword(d.url))) continue;
    tried.add(k);
    try {
      await (await openSqlClient(d)).close();
    } catch (e) {
      if (!isLoginRefused(e)) continue;
      const name = d.urlKey.replace(/\.url$/, '.password');
      out.push({ name, value: null, recommendedValues: [], errors: [(e as Error).message], visible: true });
    }
  }
  return out;
}

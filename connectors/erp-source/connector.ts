import {
  ConfigError,
  type ConfigValueResult,
  type ConnectorContext,
  type Logger,
  type SourceConnector,
  isLoginRefused,
  silentLogger,
} from '../../runtime/api/index.js';
import { PLUGIN_VERSION } from '../../transforms/support.js';
import {
  type ErpSourceSettings,
  TASK_TABLES_KEY,
  TASK_TABLE_STARTS_KEY,
  parseSettings,
  tableSelected,
} from './config.js';
import { createDialect } from './dialects/index.js';
import { qualified } from './model.js';
import { type TsIncOffset, delayedDatabaseNow } from './timestamp-incrementing.js';

/** Splits `items` round-robin into at most `n` non-empty groups (stable for a given table list). */
export function splitRoundRobin<T>(items: readonly T[], n: number): T[][] {
  const groups: T[][] = Array.from({ length: Math.max(1, Math.min(n, items.length)) }, () => []);
  items.forEach((item, i) => groups[i % groups.length]!.push(item));
  return groups;
}

/**
 * Finds the captured tables (catalog ∩ include/exclude lists) and spreads them over `tasks.max` tasks. Each task
 * reads the whole change table (so sequence gaps are judged over all rows) and emits only its own tables.
 */
export class ErpSourceConnector implements SourceConnector {
  readonly kind = 'source' as const;
  private props: Record<string, string> = {};
  private settings: ErpSourceSettings | null = null;
  private tables: string[] = [];
  private log: Logger = silentLogger;
  private context: ConnectorContext | null = null;
  private monitor: NodeJS.Timeout | null = null;
  private monitoring = false;
  /** Under snapshot.mode=never: a stream position taken just before the last catalog listing. */
  private listedAfter: unknown = null;
  /** Tables found while running (snapshot.mode=never) → where their capture starts (see TASK_TABLE_STARTS_KEY). */
  private readonly startAt = new Map<string, unknown>();

  version(): string {
    return PLUGIN_VERSION;
  }

  initialize(context: ConnectorContext): void {
    this.context = context;
    this.log = context.logger;
  }

  async start(props: Readonly<Record<string, string>>): Promise<void> {
    this.props = { ...props };
    this.settings = parseSettings(props);
    this.startAt.clear();
    const listing = await this.listTables(this.settings);
    this.tables = listing.tables;
    this.listedAfter = listing.position;
    if (this.tables.length === 0) {
      throw new ConfigError(
        'No table matches table.include.list / table.exclude.list (checked against the database catalog)',
        'table.include.list',
      );
    }
    this.log.info('ErpSource connector started', { tables: this.tables });
    const interval = this.settings.tablePollIntervalMs;
    if (interval > 0 && !this.settings.changeTable.outbox) {
      this.monitor = setInterval(() => void this.checkTables(), interval);
      this.monitor.unref();
    }
  }

  /**
   * Catalog polling (table.poll.interval.ms): when the set of matching tables changed, the runtime is asked for
   * new task configs; restarted tasks resume their tables from the stored offsets and snapshot a new table per
   * snapshot.mode. A failed listing is logged and tried again on the next tick.
   */
  private async checkTables(): Promise<void> {
    if (this.monitoring || !this.settings) return;
    this.monitoring = true;
    try {
      const { tables: now, position } = await this.listTables(this.settings);
      if (!this.monitor) return; // stopped meanwhile
      // Every change of a table this listing shows for the first time came after the previous listing's position.
      const since = this.listedAfter;
      this.listedAfter = position;
      if (now.join(',') === this.tables.join(',')) return;
      const added = now.filter((t) => !this.tables.includes(t));
      const removed = this.tables.filter((t) => !now.includes(t));
      if (now.length === 0) {
        this.log.warn('No table matches table.include.list any more; tasks keep their tables', { removed });
        return;
      }
      this.log.info('Captured tables changed; reconfiguring tasks', { added, removed });
      if (since !== null) for (const t of added) this.startAt.set(t, since);
      for (const t of removed) this.startAt.delete(t);
      this.tables = now;
      this.context?.requestTaskReconfiguration();
    } catch (e) {
      this.log.warn('Listing tables for new captured tables failed; tried again later', {
        error: (e as Error).message,
      });
    } finally {
      this.monitoring = false;
    }
  }

  /**
   * The captured tables and, under snapshot.mode=never, a stream position taken before the catalog was read: a
   * table missing from this listing is created after that position, so all its changes lie beyond it.
   */
  private async listTables(
    settings: ErpSourceSettings,
    positioned = settings.snapshotMode === 'never',
  ): Promise<{ tables: string[]; position: unknown }> {
    const dialect = createDialect(settings);
    try {
      await dialect.connect();
      const selected = async () =>
        (await dialect.listTables()).map(qualified).filter((t) => tableSelected(settings, t));
      if (settings.tsinc) {
        const position: TsIncOffset | null = positioned
          ? { tsinc: { ts: String(await delayedDatabaseNow(dialect, settings.tsinc.delayMs)), id: null } }
          : null;
        return { tables: await selected(), position };
      }
      await dialect.prepareChangeTable(settings.changeTable);
      // One task reads the outbox, from its beginning.
      if (settings.changeTable.outbox) return { tables: [settings.changeTable.table], position: null };
      const position = positioned ? await dialect.currentCursor() : null;
      return { tables: await selected(), position };
    } finally {
      await dialect.close();
    }
  }

  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    return splitRoundRobin(this.tables, maxTasks).map((tables) => {
      const starts = tables.filter((t) => this.startAt.has(t)).map((t) => [t, this.startAt.get(t)]);
      return {
        ...this.props,
        [TASK_TABLES_KEY]: tables.join(','),
        ...(starts.length > 0 ? { [TASK_TABLE_STARTS_KEY]: JSON.stringify(Object.fromEntries(starts)) } : {}),
      };
    });
  }

  async validate(props: Readonly<Record<string, string>>): Promise<ConfigValueResult[]> {
    let settings: ErpSourceSettings;
    try {
      settings = parseSettings(props);
    } catch (e) {
      if (e instanceof ConfigError && e.key) return [result(e.key, props[e.key], e.message)];
      return [];
    }
    try {
      const { tables } = await this.listTables(settings, false);
      if (tables.length === 0) {
        return [
          result(
            'table.include.list',
            props['table.include.list'],
            'No table in the database matches the include/exclude lists',
          ),
        ];
      }
      return [];
    } catch (e) {
      // A refused login is the credentials' fault: shown on the password key, where a UI puts the field in error.
      const key =
        e instanceof ConfigError && e.key ? e.key : isLoginRefused(e) ? 'connection.password' : 'connection.url';
      return [result(key, key === 'connection.password' ? null : props[key], (e as Error).message)];
    }
  }

  async stop(): Promise<void> {
    if (this.monitor) clearInterval(this.monitor);
    this.monitor = null;
  }
}

function result(name: string, value: unknown, error: string): ConfigValueResult {
  return { name, value: value ?? null, recommendedValues: [], errors: [error], visible: true };
}

import { ConfigError, type ConfigValueResult, type SinkConnector } from '../../runtime/api/index.js';
import { parseLookupSinkConfig } from './config.js';
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

  /** Cross-field checks (exactly one of lookup.table/lookup.query, dependency blocks) reported on their key. */
  validate(props: Readonly<Record<string, string>>): ConfigValueResult[] {
    try {
      parseLookupSinkConfig(props);
      return [];
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const name = e.key ?? 'lookup.table';
      return [{ name, value: props[name] ?? null, recommendedValues: [], errors: [e.message], visible: true }];
    }
  }

  alterOffsets(): boolean {
    return true;
  }
}

import type { Logger } from '../../api/index.js';
import type { ConfigStore, StoredConnector, TargetState } from '../stores.js';
import type { KafkaBasedLog, LogRecord } from './kafka-log.js';

/** Connect's `target-state-<c>` value: STOPPED is written as state=PAUSED so older workers pause it. */
export function targetStateValue(state: TargetState): { state: 'STARTED' | 'PAUSED'; 'state.v2': TargetState } {
  return { state: state === 'STARTED' ? 'STARTED' : 'PAUSED', 'state.v2': state };
}

export interface RestartRequest {
  connector: string;
  includeTasks: boolean;
  onlyFailed: boolean;
}

/** Splits `task-<connector>-<n>`; connector names may contain dashes, the task number is last. */
function parseTaskKey(key: string): { connector: string; task: number } | null {
  const m = /^task-(.+)-(\d+)$/.exec(key);
  return m ? { connector: m[1]!, task: Number(m[2]) } : null;
}

/**
 * Connector configs, target states and task configs in the config topic, in Kafka Connect's record
 * formats (KafkaConfigBackingStore), so Connect tooling can read them. Task configs are buffered and
 * applied only when their `commit-<c>` record is read, as in Connect, so a reader never sees half a set.
 */
export class KafkaConfigStore implements ConfigStore {
  private readonly connectors = new Map<string, StoredConnector>();
  private readonly targetStates = new Map<string, TargetState>();
  private readonly pendingTasks = new Map<string, Map<number, Record<string, string>>>();
  /** Connectors whose last commit referred to task records that are missing (compaction gap). */
  readonly inconsistent = new Set<string>();
  /**
   * Exactly-once: connectors whose task configs were committed after their last `tasks-fencing-<c>` record, with
   * the most tasks any generation since had: their tasks wait until those transactional ids are fenced.
   */
  private readonly unfenced = new Map<string, number>();
  private log: KafkaBasedLog | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly listeners: {
      /** Something about this connector changed (config, target state, task configs, or deletion). */
      onChange?(connector: string): void;
      onRestart?(request: RestartRequest): void;
    } = {},
  ) {}

  attach(log: KafkaBasedLog): void {
    this.log = log;
  }

  /** Applies one record of the config topic (the KafkaBasedLog callback). */
  apply(record: LogRecord): void {
    const key = record.key ?? '';
    let value: Record<string, unknown> | null = null;
    if (record.value !== null) {
      try {
        value = JSON.parse(record.value.toString('utf8')) as Record<string, unknown>;
      } catch {
        this.logger.error(`Skipping config record ${key}: value is not JSON`, { offset: String(record.offset) });
        return;
      }
    }
    if (key.startsWith('connector-')) {
      const name = key.slice('connector-'.length);
      if (value === null) {
        this.connectors.delete(name);
        this.targetStates.delete(name);
        this.pendingTasks.delete(name);
        this.inconsistent.delete(name);
        this.unfenced.delete(name);
      } else {
        const prev = this.connectors.get(name);
        this.connectors.set(name, {
          config: { ...((value.properties as Record<string, string>) ?? {}) },
          targetState: this.targetStates.get(name) ?? 'STARTED',
          taskConfigs: prev?.taskConfigs ?? [],
        });
      }
      this.listeners.onChange?.(name);
    } else if (key.startsWith('target-state-')) {
      const name = key.slice('target-state-'.length);
      if (value === null) {
        this.targetStates.delete(name);
        return;
      }
      const raw = String(value['state.v2'] ?? value.state ?? 'STARTED');
      const state: TargetState = raw === 'PAUSED' || raw === 'STOPPED' ? raw : 'STARTED';
      this.targetStates.set(name, state);
      const c = this.connectors.get(name);
      if (c) c.targetState = state;
      this.listeners.onChange?.(name);
    } else if (key.startsWith('task-')) {
      const parsed = parseTaskKey(key);
      if (!parsed || value === null) return;
      const m = this.pendingTasks.get(parsed.connector) ?? new Map<number, Record<string, string>>();
      this.pendingTasks.set(parsed.connector, m);
      m.set(parsed.task, { ...((value.properties as Record<string, string>) ?? {}) });
    } else if (key.startsWith('commit-')) {
      const name = key.slice('commit-'.length);
      if (value === null) return;
      const count = Number(value.tasks ?? 0);
      const pending = this.pendingTasks.get(name) ?? new Map<number, Record<string, string>>();
      this.pendingTasks.delete(name);
      const configs: Array<Record<string, string>> = [];
      for (let i = 0; i < count; i++) {
        const c = pending.get(i);
        if (!c) {
          // Connect marks the connector inconsistent and waits for the next complete set of task configs.
          this.inconsistent.add(name);
          this.logger.warn(`Commit of ${count} task configs for ${name} refers to missing task-${name}-${i}`);
          return;
        }
        configs.push(c);
      }
      this.inconsistent.delete(name);
      const c = this.connectors.get(name);
      const before = Math.max(this.unfenced.get(name) ?? 0, c?.taskConfigs.length ?? 0);
      this.unfenced.set(name, Math.max(before, configs.length));
      if (c) c.taskConfigs = configs;
      this.listeners.onChange?.(name);
    } else if (key.startsWith('tasks-fencing-')) {
      const name = key.slice('tasks-fencing-'.length);
      if (value === null) return;
      this.unfenced.delete(name);
      this.listeners.onChange?.(name);
    } else if (key.startsWith('restart-connector-')) {
      if (value === null) return;
      this.listeners.onRestart?.({
        connector: key.slice('restart-connector-'.length),
        includeTasks: value['include-tasks'] === true,
        onlyFailed: value['only-failed'] === true,
      });
    }
    // session-key, logger-cluster-*: not used by erpstream workers; ignored like unknown keys.
  }

  private get topicLog(): KafkaBasedLog {
    // Invariant: the worker attaches the store before it starts the herder.
    if (!this.log) throw new Error('The config store is not attached to its topic');
    return this.log;
  }

  snapshot(): Map<string, StoredConnector> {
    return new Map([...this.connectors].map(([k, v]) => [k, structuredClone(v)]));
  }

  get(name: string): StoredConnector | undefined {
    return this.connectors.get(name);
  }

  names(): string[] {
    return [...this.connectors.keys()].sort();
  }

  async load(): Promise<Map<string, StoredConnector>> {
    await this.topicLog.readToEnd();
    return this.snapshot();
  }

  async readToEnd(): Promise<void> {
    await this.topicLog.readToEnd();
  }

  async putConnector(name: string, config: Record<string, string>, targetState?: TargetState): Promise<void> {
    const records: Array<{ key: string; value: string }> = [];
    if (targetState)
      records.push({ key: `target-state-${name}`, value: JSON.stringify(targetStateValue(targetState)) });
    records.push({ key: `connector-${name}`, value: JSON.stringify({ properties: config }) });
    await this.topicLog.send(records);
    await this.topicLog.readToEnd();
  }

  async putTargetState(name: string, state: TargetState): Promise<void> {
    await this.topicLog.send([{ key: `target-state-${name}`, value: JSON.stringify(targetStateValue(state)) }]);
    await this.topicLog.readToEnd();
  }

  async putTaskConfigs(name: string, configs: Array<Record<string, string>>): Promise<void> {
    await this.topicLog.send([
      ...configs.map((c, i) => ({ key: `task-${name}-${i}`, value: JSON.stringify({ properties: c }) })),
      { key: `commit-${name}`, value: JSON.stringify({ tasks: configs.length }) },
    ]);
    await this.topicLog.readToEnd();
  }

  /**
   * Exactly-once (KIP-618 zombie fencing): how many task transactional ids (`…-<c>-0` up) to fence before the
   * tasks of the latest task configs may start, or null when nothing is pending.
   */
  pendingFencing(name: string): number | null {
    return this.unfenced.get(name) ?? null;
  }

  /** Connect's `tasks-fencing-<c>` record: the producers of every earlier task generation are fenced. */
  async putTaskFencing(name: string, taskCount: number): Promise<void> {
    await this.topicLog.send([{ key: `tasks-fencing-${name}`, value: JSON.stringify({ 'task-count': taskCount }) }]);
    await this.topicLog.readToEnd();
  }

  async putRestartRequest(request: RestartRequest): Promise<void> {
    await this.topicLog.send([
      {
        key: `restart-connector-${request.connector}`,
        value: JSON.stringify({ 'include-tasks': request.includeTasks, 'only-failed': request.onlyFailed }),
      },
    ]);
  }

  async removeConnector(name: string): Promise<void> {
    await this.topicLog.send([
      { key: `connector-${name}`, value: null },
      { key: `target-state-${name}`, value: null },
    ]);
    await this.topicLog.readToEnd();
  }
}

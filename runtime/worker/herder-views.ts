import {
  AlreadyExistsError,
  type ConfigInfos,
  FeatureDisabledError,
  Password,
  type SecretTest,
  redactConfig,
  secretTest,
  shownValue,
} from '../api/index.js';
import { configErrorsMessage } from './connector-config.js';
import type { ConfigTransformer } from '../config-providers/index.js';
import type { PluginRegistry } from '../plugins/registry.js';
import {
  type ConnectorInfo,
  type ConnectorStateInfo,
  type ConnectorType,
  type TaskInfo,
  type TaskStateEntry,
  type ConnectorOffsets,
  type InitialState,
  badRequest,
  notFound,
  taskStateEntry,
} from './herder-types.js';

interface TopicTracking {
  enable: boolean;
  allowReset: boolean;
}

/** Connect's refusal to change offsets of a connector that is not STOPPED (both herders answer it). */
export const OFFSETS_NOT_STOPPED = (name: string) =>
  `Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`;

/** The target state a create or update asks for (`initial_state`, KIP-980); undefined keeps the current one. */
export function requestedTargetState(initialState: InitialState | undefined): TargetState | undefined {
  return initialState === 'PAUSED'
    ? 'PAUSED'
    : initialState === 'STOPPED'
      ? 'STOPPED'
      : initialState === 'RUNNING'
        ? 'STARTED'
        : undefined;
}

/** PATCH /connectors/{name}/config: null removes a key, anything else sets it. */
export function patchedConfig(
  config: Record<string, string>,
  patch: Record<string, string | null>,
): Record<string, string> {
  const merged: Record<string, string> = { ...config };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  return merged;
}

/** GET /connectors/{name}/offsets in Connect's shape, from a source's stored offsets or a sink's group offsets. */
export function offsetsView(
  source: readonly OffsetEntry[] | null,
  group: ReadonlyArray<{ topic: string; partition: number; offset: bigint | number | string }> = [],
): ConnectorOffsets {
  if (source) {
    return {
      offsets: source.map((e) => ({ partition: { ...e.partition }, offset: e.offset ? { ...e.offset } : null })),
    };
  }
  return {
    offsets: group.map((g) => ({
      partition: { kafka_topic: g.topic, kafka_partition: g.partition },
      offset: { kafka_offset: Number(g.offset) },
    })),
  };
}

import type { OffsetEntry, StatusStore, StoredConnector, TargetState } from './stores.js';
import { resolveConnectorPlugin, validateConnectorConfig } from './validation.js';
import type { Worker } from './worker.js';

/**
 * What both herders show over REST (connector info, configs with secrets hidden, statuses, task configs).
 * The herders differ only in where a connector's stored config comes from, so they pass that lookup in.
 */
export class HerderViews {
  constructor(
    private readonly o: {
      registry: PluginRegistry;
      transformer: ConfigTransformer;
      statusStore: StatusStore;
      worker: Worker;
      lookup: (name: string) => StoredConnector | undefined;
    },
  ) {}

  /** Validates with config providers resolved first, as Connect does; the answer never holds a resolved secret. */
  async validate(config: Record<string, string | null>, pluginName?: string): Promise<ConfigInfos> {
    const { infos } = await validateConnectorConfig(this.o.registry, config, {
      transformer: this.o.transformer,
      ...(pluginName !== undefined ? { pluginName } : {}),
    });
    // Transforms', converters' and undeclared keys are in no spec: the name rule hides those too.
    const isSecret = this.secretTestFor(config);
    for (const c of infos.configs) {
      if (typeof c.value.value === 'string') c.value.value = shownValue(c.value.name, c.value.value, isSecret);
    }
    return infos;
  }

  /** A config sent back as GET showed it: hidden passwords (`[hidden]`) take their stored value again. */
  restoreHidden(config: Record<string, string>, previous: Record<string, string> | undefined): Record<string, string> {
    if (!previous) return config;
    for (const [k, v] of Object.entries(config)) {
      if (v === Password.HIDDEN && previous[k] !== undefined) config[k] = previous[k]!;
    }
    return config;
  }

  /**
   * The config a create or update stores: refused when the connector exists and may not be replaced, hidden
   * passwords restored from the stored config, validated (the errors named, as Connect's 400).
   */
  async acceptedConfig(
    name: string,
    config: Record<string, string>,
    existing: StoredConnector | undefined,
    allowReplace: boolean,
  ): Promise<Record<string, string>> {
    if (existing && !allowReplace) throw new AlreadyExistsError(`Connector ${name} already exists`);
    const full = this.restoreHidden({ ...config }, existing?.config);
    const infos = await this.validate(full);
    if (infos.error_count > 0) throw badRequest(configErrorsMessage(infos));
    return full;
  }

  /** GET /connectors/{name}/topics (KIP-558), when topic.tracking.enable allows it. */
  topics(name: string, tracking: TopicTracking): string[] {
    if (!tracking.enable) throw new FeatureDisabledError('Topic tracking is disabled.');
    return this.o.statusStore.topics(name);
  }

  /** PUT /connectors/{name}/topics/reset, when topic.tracking.allow.reset allows it. */
  resetTopics(name: string, tracking: TopicTracking): void {
    if (!tracking.enable) throw new FeatureDisabledError('Topic tracking is disabled.');
    if (!tracking.allowReset) throw new FeatureDisabledError('Topic tracking reset is disabled.');
    this.stored(name);
    this.o.statusStore.resetTopics(name);
  }

  stored(name: string, message = `Connector ${name} not found`): StoredConnector {
    const s = this.o.lookup(name);
    if (!s) throw notFound(message);
    return s;
  }

  /**
   * The connector plugin's version, which Connect 4.x (KIP-891) shows on connector and task statuses; absent when
   * the class is unknown (Connect has no version to show then either).
   */
  versionOf(config: Record<string, string>): string | undefined {
    try {
      return resolveConnectorPlugin(this.o.registry, config['connector.class'] ?? '').version;
    } catch {
      return undefined;
    }
  }

  typeOf(config: Record<string, string>): ConnectorType {
    try {
      return resolveConnectorPlugin(this.o.registry, config['connector.class'] ?? '').type;
    } catch {
      return 'unknown';
    }
  }

  /** The secret rule for a connector config: its plugin's PASSWORD keys (when the plugin is known) and the rest. */
  secretTestFor(config: Readonly<Record<string, string | null>>): SecretTest {
    let cls: unknown = config['connector.class'];
    try {
      cls = resolveConnectorPlugin(this.o.registry, config['connector.class'] ?? '').className;
    } catch {
      // unknown class: the registry answers with every connector's PASSWORD keys
    }
    return secretTest(this.o.registry.connectorPasswordKeys(cls));
  }

  /** Hides secret values (unless they are `${…}` placeholders) in configs shown to users (runtime/api/secrets). */
  redact(config: Record<string, string>): Record<string, string> {
    return redactConfig(config, this.secretTestFor(config));
  }

  connectorInfo(name: string): ConnectorInfo {
    const s = this.stored(name);
    return {
      name,
      config: this.redact(s.config),
      tasks: s.taskConfigs.map((_, task) => ({ connector: name, task })),
      type: this.typeOf(s.config),
    };
  }

  connectorConfig(name: string): Record<string, string> {
    return this.redact(this.stored(name).config);
  }

  connectorStatus(name: string): ConnectorStateInfo {
    const s = this.o.lookup(name);
    const c = this.o.statusStore.connector(name);
    if (!s || !c) throw notFound(`No status found for connector ${name}`);
    const version = this.versionOf(s.config);
    const tasks: TaskStateEntry[] = [...this.o.statusStore.tasks(name)]
      .filter(([id]) => id < s.taskConfigs.length)
      .sort(([a], [b]) => a - b)
      .map(([id, t]) =>
        taskStateEntry(id, t, this.o.worker.taskProgress(name, id), this.o.worker.taskWaiting(name, id), version),
      );
    return {
      name,
      connector: {
        state: c.state,
        worker_id: c.workerId,
        ...(version !== undefined ? { version } : {}),
        ...(c.trace ? { trace: c.trace } : {}),
      },
      tasks,
      type: this.typeOf(s.config),
    };
  }

  taskStatus(name: string, task: number): TaskStateEntry {
    const s = this.o.lookup(name);
    const t = this.o.statusStore.task(name, task);
    if (!s || !t || task >= s.taskConfigs.length) throw notFound(`No status found for task ${name}-${task}`);
    return taskStateEntry(
      task,
      t,
      this.o.worker.taskProgress(name, task),
      this.o.worker.taskWaiting(name, task),
      this.versionOf(s.config),
    );
  }

  taskConfigs(name: string): TaskInfo[] {
    return this.stored(name).taskConfigs.map((config, task) => ({
      id: { connector: name, task },
      config: this.redact(config),
    }));
  }
}

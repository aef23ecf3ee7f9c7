import { type ConfigInfos, type Logger, type SourcePartition } from '../api/index.js';
import type { ConfigTransformer } from '../config-providers/index.js';
import { HerderViews, OFFSETS_NOT_STOPPED, offsetsView, patchedConfig, requestedTargetState } from './herder-views.js';
import type { PluginRegistry } from '../plugins/registry.js';
import {
  type ConnectorInfo,
  type ConnectorOffsets,
  type ConnectorStateInfo,
  type ConnectorType,
  type Herder,
  type HerderServices,
  type InitialState,
  type TaskInfo,
  type TaskStateEntry,
  badRequest,
  notFound,
} from './herder-types.js';
import type { KafkaPort } from './kafka-port.js';
import {
  type ConfigStore,
  type OffsetStore,
  type State,
  type StatusStore,
  type StoredConnector,
  type TargetState,
  canonicalJson,
} from './stores.js';
import { type ConnectorPlugin, resolveConnectorPlugin } from './validation.js';
import { sinkConsumerGroupId } from './connector-settings.js';
import { generateTaskConfigs } from './task-generation.js';
import type { Worker } from './worker.js';
import { ConnectorStartRetries } from './connector-start-retries.js';

export interface StandaloneHerderOptions {
  workerId: string;
  registry: PluginRegistry;
  worker: Worker;
  /** Resolves `${…}` placeholders for validation and `tasks.max` (stored configs keep them). */
  transformer: ConfigTransformer;
  configStore: ConfigStore;
  offsetStore: OffsetStore;
  statusStore: StatusStore;
  kafka: KafkaPort;
  logger: Logger;
  topicTracking: { enable: boolean; allowReset: boolean };
  /** Restart FAILED tasks by themselves, waiting 1 s, 2 s, 4 s… up to maxBackoffMs between attempts. */
  autoRestart?: { maxBackoffMs: number; initialBackoffMs?: number };
}

function traceOf(error: unknown): string {
  if (error instanceof Error) {
    let out = error.stack ?? `${error.name}: ${error.message}`;
    let cause = error.cause;
    for (let i = 0; cause !== undefined && i < 5; i++) {
      out += `\nCaused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`;
      cause = cause instanceof Error ? cause.cause : undefined;
    }
    return out;
  }
  return String(error);
}

/**
 * Standalone mode: one worker owns every connector. Configs and target states persist in a ConfigStore
 * (a file next to the offsets), offsets in an OffsetStore, statuses in memory. Operations on one
 * connector run one at a time (a per-connector queue), so a restart racing a delete cannot interleave.
 */
export class StandaloneHerder implements Herder {
  /** `host:port` of the REST listener; set before start() once the listener is bound. */
  workerId: string;
  private readonly state = new Map<string, StoredConnector>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private started = false;
  private clusterId: string | null | undefined;
  /** Incremented per connector start so late callbacks of an old instance are ignored. */
  private readonly generations = new Map<string, number>();
  /** Automatic restarts done per task in the current generation (the backoff exponent). */
  private readonly autoRestarts = new Map<string, number>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private readonly startRetries = new ConnectorStartRetries();

  constructor(private readonly o: StandaloneHerderOptions) {
    this.workerId = o.workerId;
    this.views = new HerderViews({
      registry: o.registry,
      transformer: o.transformer,
      statusStore: o.statusStore,
      worker: o.worker,
      lookup: (name) => this.state.get(name),
    });
  }

  private readonly views: HerderViews;

  ready(): boolean {
    return this.started;
  }

  async kafkaClusterId(): Promise<string | null> {
    if (this.clusterId === undefined) {
      try {
        this.clusterId = await this.o.kafka.clusterId();
      } catch (e) {
        this.o.logger.warn('Could not read the Kafka cluster id', { error: e });
        return null;
      }
    }
    return this.clusterId;
  }

  /** Loads stored connectors and starts each according to its target state. */
  async start(): Promise<void> {
    await this.o.offsetStore.start();
    for (const [name, stored] of await this.o.configStore.load()) {
      this.state.set(name, stored);
      await this.serial(name, () => this.applyTargetState(name));
    }
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    this.startRetries.close();
    await Promise.allSettled([...this.queues.values()]);
    await this.o.worker.close();
  }

  private serial<T>(name: string, op: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(name) ?? Promise.resolve();
    const next = prev.then(op, op);
    const settled = next.catch(() => {});
    this.queues.set(name, settled);
    void settled.then(() => {
      if (this.queues.get(name) === settled) this.queues.delete(name);
    });
    return next;
  }

  private stored(name: string, message?: string): StoredConnector {
    return this.views.stored(name, message);
  }

  private typeOf(config: Record<string, string>): ConnectorType {
    return this.views.typeOf(config);
  }

  private setConnectorState(name: string, state: State, error?: unknown): void {
    this.o.statusStore.putConnector(name, {
      state,
      trace: error === undefined ? null : traceOf(error),
      workerId: this.workerId,
      generation: this.generations.get(name) ?? 0,
    });
  }

  private setTaskState(name: string, task: number, state: State, error?: unknown): void {
    this.o.statusStore.putTask(name, task, {
      state,
      trace: error === undefined ? null : traceOf(error),
      workerId: this.workerId,
      generation: this.generations.get(name) ?? 0,
    });
  }

  private taskListener(name: string, task: number, generation: number) {
    return {
      onState: (state: 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED', error?: unknown) => {
        if (this.generations.get(name) !== generation || !this.state.has(name)) return;
        // A task stopped on purpose keeps the state the herder gave it (PAUSED, or gone when STOPPED).
        if (state === 'UNASSIGNED') return;
        this.setTaskState(name, task, state, error);
        if (state === 'FAILED') this.scheduleAutoRestart(name, task, generation);
      },
    };
  }

  private scheduleAutoRestart(name: string, task: number, generation: number): void {
    const auto = this.o.autoRestart;
    if (!auto || !this.started) return;
    const key = `${name}-${task}`;
    const counter = `${name}\0${task}`;
    const attempt = this.autoRestarts.get(counter) ?? 0;
    const delay = Math.min((auto.initialBackoffMs ?? 1000) * 2 ** attempt, auto.maxBackoffMs);
    this.autoRestarts.set(counter, attempt + 1);
    this.o.logger.warn(`Task ${key} failed; restarting it in ${delay} ms (automatic restart ${attempt + 1})`, {
      connector: name,
      task,
    });
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      void this.serial(name, async () => {
        // Skip when the connector moved on meanwhile (reconfigured, stopped, deleted, restarted by hand).
        if (this.generations.get(name) !== generation) return;
        if (this.o.statusStore.task(name, task)?.state !== 'FAILED') return;
        await this.startTask(name, task);
      }).catch((e: unknown) => this.o.logger.error(`Automatic restart of ${key} failed`, { error: e }));
    }, delay);
    timer.unref();
    this.restartTimers.add(timer);
  }

  private redact(config: Record<string, string>): Record<string, string> {
    return this.views.redact(config);
  }

  connectors(): string[] {
    return [...this.state.keys()].sort();
  }

  connectorInfo(name: string): ConnectorInfo {
    return this.views.connectorInfo(name);
  }

  connectorConfig(name: string): Record<string, string> {
    return this.views.connectorConfig(name);
  }

  validateConnectorConfig(config: Record<string, string | null>, pluginName?: string): Promise<ConfigInfos> {
    return this.views.validate(config, pluginName);
  }

  services(): HerderServices {
    return { resolveConfig: (c) => this.o.worker.resolveConfig(c), kafka: () => this.o.worker.pluginKafka() };
  }

  async putConnectorConfig(
    name: string,
    config: Record<string, string>,
    options: { allowReplace: boolean; initialState?: InitialState },
  ): Promise<{ created: boolean; info: ConnectorInfo }> {
    return this.serial(name, async () => {
      const existing = this.state.get(name);
      const full = await this.views.acceptedConfig(name, config, existing, options.allowReplace);
      const target = requestedTargetState(options.initialState);
      await this.o.configStore.putConnector(name, full, target ?? existing?.targetState ?? 'STARTED');
      const stored: StoredConnector = {
        config: full,
        targetState: target ?? existing?.targetState ?? 'STARTED',
        taskConfigs: existing?.taskConfigs ?? [],
      };
      this.state.set(name, stored);
      const info = this.connectorInfo(name);
      // The response shows the tasks as they were; the (re)start happens after the config is stored.
      // A changed config restarts the Connector object, which regenerates (and restarts) the tasks;
      // the same config again changes nothing (as in Connect, running tasks are not disturbed).
      const unchanged = existing !== undefined && canonicalJson(existing.config) === canonicalJson(full);
      if (existing && !unchanged) await this.o.worker.stopConnector(name);
      if (!unchanged || target !== undefined) await this.applyTargetState(name);
      return { created: !existing, info };
    });
  }

  async patchConnectorConfig(name: string, patch: Record<string, string | null>): Promise<ConnectorInfo> {
    const merged = patchedConfig(this.stored(name).config, patch);
    return (await this.putConnectorConfig(name, merged, { allowReplace: true })).info;
  }

  async deleteConnector(name: string): Promise<void> {
    await this.serial(name, async () => {
      const s = this.stored(name);
      await this.stopTasks(name, s.taskConfigs.length);
      await this.o.worker.stopConnector(name);
      await this.o.configStore.removeConnector(name);
      this.state.delete(name);
      this.generations.delete(name);
      // A start waiting for an outage ends with the connector (its generation count starts over for a new one).
      this.startRetries.forget(name);
      this.o.statusStore.remove(name);
    });
  }

  connectorStatus(name: string): ConnectorStateInfo {
    return this.views.connectorStatus(name);
  }

  taskStatus(name: string, task: number): TaskStateEntry {
    return this.views.taskStatus(name, task);
  }

  taskConfigs(name: string): TaskInfo[] {
    return this.views.taskConfigs(name);
  }

  async restartConnector(
    name: string,
    options: { includeTasks: boolean; onlyFailed: boolean },
  ): Promise<ConnectorStateInfo | null> {
    if (!this.state.has(name)) throw notFound(`Unknown connector: ${name}`);
    if (!options.includeTasks && !options.onlyFailed) {
      // Legacy restart: the Connector object only, synchronously, 204.
      await this.serial(name, () => this.restartConnectorObject(name));
      return null;
    }
    const status = this.connectorStatus(name);
    const restartConnector = !options.onlyFailed || status.connector.state === 'FAILED';
    const restartTasks = status.tasks
      .filter((t) => options.includeTasks && (!options.onlyFailed || t.state === 'FAILED'))
      .map((t) => t.id);
    // As Connect's restart plan: RESTARTING keeps the trace of the failure being restarted.
    const c = this.o.statusStore.connector(name);
    if (restartConnector && c) this.o.statusStore.putConnector(name, { ...c, state: 'RESTARTING' });
    for (const t of restartTasks) {
      const ts = this.o.statusStore.task(name, t);
      if (ts) this.o.statusStore.putTask(name, t, { ...ts, state: 'RESTARTING' });
      else this.setTaskState(name, t, 'RESTARTING');
    }
    const snapshot = this.connectorStatus(name);
    void this.serial(name, async () => {
      if (restartConnector) await this.restartConnectorObject(name);
      const s = this.state.get(name);
      if (!s || s.targetState === 'STOPPED') return;
      for (const t of restartTasks) await this.startTask(name, t);
    }).catch((e: unknown) => this.o.logger.error(`Restart of ${name} failed`, { error: e }));
    return snapshot;
  }

  private async restartConnectorObject(name: string): Promise<void> {
    const s = this.stored(name, `Unknown connector: ${name}`);
    if (s.targetState === 'STOPPED') {
      // Nothing runs; the RESTARTING shown in the 202 snapshot settles back to STOPPED.
      this.setConnectorState(name, 'STOPPED');
      return;
    }
    await this.o.worker.stopConnector(name);
    await this.startConnectorObject(name, s.targetState === 'PAUSED');
  }

  async restartTask(name: string, task: number): Promise<void> {
    const s = this.state.get(name);
    if (!s) throw notFound(`Unknown connector: ${name}`);
    if (task < 0 || task >= s.taskConfigs.length) throw notFound(`Unknown task: ${name}-${task}`);
    await this.serial(name, () => this.startTask(name, task));
  }

  async pauseConnector(name: string): Promise<void> {
    if (!this.state.has(name)) throw notFound(`Unknown connector ${name}`);
    await this.serial(name, async () => {
      await this.setTarget(name, 'PAUSED');
      await this.applyTargetState(name);
    });
  }

  async resumeConnector(name: string): Promise<void> {
    if (!this.state.has(name)) throw notFound(`Unknown connector ${name}`);
    await this.serial(name, async () => {
      await this.setTarget(name, 'STARTED');
      await this.applyTargetState(name);
    });
  }

  async stopConnector(name: string): Promise<void> {
    if (!this.state.has(name)) throw notFound(`Unknown connector ${name}`);
    await this.serial(name, async () => {
      await this.setTarget(name, 'STOPPED');
      await this.applyTargetState(name);
    });
  }

  private async setTarget(name: string, target: TargetState): Promise<void> {
    const s = this.stored(name);
    s.targetState = target;
    await this.o.configStore.putTargetState(name, target);
  }

  /** Brings the running instances in line with the stored target state. */
  private async applyTargetState(name: string): Promise<void> {
    const s = this.state.get(name);
    if (!s) return;
    if (s.targetState === 'STOPPED') {
      await this.stopTasks(name, s.taskConfigs.length);
      await this.o.worker.stopConnector(name);
      s.taskConfigs = [];
      await this.o.configStore.putTaskConfigs(name, []);
      this.o.statusStore.removeTasks(name);
      this.setConnectorState(name, 'STOPPED');
      return;
    }
    const paused = s.targetState === 'PAUSED';
    const wasRunning = this.o.worker.isConnectorRunning(name);
    if (!wasRunning || this.o.statusStore.connector(name)?.state === 'FAILED') {
      await this.startConnectorObject(name, paused);
      return;
    }
    // Already running: a config update restarts it; otherwise only pause/resume the tasks.
    this.setConnectorState(name, paused ? 'PAUSED' : 'RUNNING');
    // Tasks report PAUSED/RUNNING themselves once they actually parked or resumed.
    for (let t = 0; t < s.taskConfigs.length; t++) {
      if (paused) this.o.worker.pauseTask(name, t);
      else this.o.worker.resumeTask(name, t);
    }
  }

  /** (Re)starts the Connector object, regenerates task configs and (re)starts the tasks. */
  private async startConnectorObject(name: string, paused: boolean): Promise<void> {
    const s = this.stored(name);
    const generation = (this.generations.get(name) ?? 0) + 1;
    this.generations.set(name, generation);
    for (const k of this.autoRestarts.keys()) if (k.startsWith(`${name}\0`)) this.autoRestarts.delete(k);
    const oldTaskCount = s.taskConfigs.length;
    try {
      await this.o.worker.startConnector(
        name,
        s.config,
        () => void this.serial(name, () => this.reconfigureTasks(name)),
        (e) => {
          if (this.generations.get(name) === generation) this.setConnectorState(name, 'FAILED', e);
        },
      );
    } catch (error) {
      await this.stopTasks(name, oldTaskCount);
      this.startRetries.afterFailedStart(name, error, this.o.worker.outageWaitMs(s.config), {
        logger: this.o.logger,
        setState: (state, e) => this.setConnectorState(name, state, e),
        startAgain: () =>
          void this.serial(name, async () => {
            const now = this.state.get(name);
            // Not if it was deleted, stopped, restarted or reconfigured meanwhile, or the worker is stopping.
            if (!this.started || !now || now.targetState === 'STOPPED' || this.generations.get(name) !== generation)
              return;
            await this.startConnectorObject(name, now.targetState === 'PAUSED');
          }),
      });
      return;
    }
    this.startRetries.forget(name);
    this.setConnectorState(name, paused ? 'PAUSED' : 'RUNNING');
    await this.reconfigureTasks(name, true);
  }

  private async reconfigureTasks(name: string, force = false): Promise<void> {
    const s = this.state.get(name);
    if (!s || s.targetState === 'STOPPED') return;
    let configs: Array<Record<string, string>>;
    try {
      configs = await generateTaskConfigs(this.o.worker, this.o.transformer, name, s.config);
    } catch (error) {
      this.setConnectorState(name, 'FAILED', error);
      await this.stopTasks(name, s.taskConfigs.length);
      return;
    }
    const changed = JSON.stringify(configs) !== JSON.stringify(s.taskConfigs);
    if (!changed && !force) return;
    await this.stopTasks(name, s.taskConfigs.length);
    this.o.statusStore.removeTasks(name);
    s.taskConfigs = configs;
    await this.o.configStore.putTaskConfigs(name, configs);
    for (let t = 0; t < configs.length; t++) await this.startTask(name, t);
  }

  private async startTask(name: string, task: number): Promise<void> {
    const s = this.stored(name);
    const taskConfig = s.taskConfigs[task];
    if (!taskConfig) return;
    const paused = s.targetState === 'PAUSED';
    this.setTaskState(name, task, 'UNASSIGNED');
    const generation = this.generations.get(name) ?? 0;
    await this.o.worker.startTask(name, task, s.config, taskConfig, paused, this.taskListener(name, task, generation));
  }

  private async stopTasks(name: string, count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, (_, t) => this.o.worker.stopTask(name, t)));
  }

  connectorTopics(name: string): string[] {
    return this.views.topics(name, this.o.topicTracking);
  }

  resetConnectorTopics(name: string): void {
    this.views.resetTopics(name, this.o.topicTracking);
  }

  private pluginOf(name: string): ConnectorPlugin {
    return resolveConnectorPlugin(this.o.registry, this.stored(name).config['connector.class'] ?? '');
  }

  async connectorOffsets(name: string): Promise<ConnectorOffsets> {
    const plugin = this.pluginOf(name);
    if (plugin.type === 'source') return offsetsView(await this.o.offsetStore.list(name));
    return offsetsView(null, await this.o.kafka.groupOffsets(this.sinkGroup(name)));
  }

  private sinkGroup(name: string): string {
    return sinkConsumerGroupId(name, this.stored(name).config);
  }

  private checkStopped(name: string): StoredConnector {
    const s = this.stored(name);
    if (s.targetState !== 'STOPPED' || s.taskConfigs.length > 0) throw badRequest(OFFSETS_NOT_STOPPED(name));
    return s;
  }

  async alterConnectorOffsets(name: string, body: ConnectorOffsets): Promise<string> {
    return this.serial(name, async () => {
      const s = this.stored(name);
      if (!body || !Array.isArray(body.offsets) || body.offsets.length === 0) {
        throw badRequest('Partitions / offsets need to be provided for an alter offsets request');
      }
      this.checkStopped(name);
      const { plugin, instance } = this.o.worker.connectorInstance(s.config);
      const props = await this.o.worker.resolveConfig(s.config);
      let managed = false;
      if (plugin.type === 'source') {
        for (const o of body.offsets) {
          if (o.partition === null || typeof o.partition !== 'object' || Array.isArray(o.partition)) {
            throw badRequest('Source partitions may not be null');
          }
          if (o.offset !== null && (typeof o.offset !== 'object' || Array.isArray(o.offset))) {
            throw badRequest('Source offsets must be objects or null');
          }
        }
        if (instance.kind === 'source' && instance.alterOffsets) {
          managed = instance.alterOffsets(
            props,
            new Map(body.offsets.map((o) => [o.partition as SourcePartition, o.offset])),
          );
        }
        await this.o.offsetStore.set(
          name,
          body.offsets.map((o) => ({ partition: o.partition, offset: o.offset })),
        );
      } else {
        const parsed = body.offsets.map((o) => parseSinkOffset(o));
        if (instance.kind === 'sink' && instance.alterOffsets) {
          managed = instance.alterOffsets(
            props,
            new Map(parsed.map((p) => [{ topic: p.topic, partition: p.partition }, p.offset])),
          );
        }
        await this.o.kafka.alterGroupOffsets(this.sinkGroup(name), parsed);
      }
      return managed
        ? 'The offsets for this connector have been altered successfully'
        : 'The Connect framework-managed offsets for this connector have been altered successfully. However, if this connector manages offsets externally, they will need to be manually altered in the system that the connector uses.';
    });
  }

  async resetConnectorOffsets(name: string): Promise<string> {
    return this.serial(name, async () => {
      const s = this.checkStopped(name);
      const { plugin, instance } = this.o.worker.connectorInstance(s.config);
      const props = await this.o.worker.resolveConfig(s.config);
      let managed = false;
      if (plugin.type === 'source') {
        const entries = await this.o.offsetStore.list(name);
        if (instance.kind === 'source' && instance.alterOffsets) {
          managed = instance.alterOffsets(props, new Map(entries.map((e) => [e.partition, null])));
        }
        await this.o.offsetStore.set(
          name,
          entries.map((e) => ({ partition: e.partition, offset: null })),
        );
      } else {
        const group = await this.o.kafka.groupOffsets(this.sinkGroup(name));
        if (instance.kind === 'sink' && instance.alterOffsets) {
          managed = instance.alterOffsets(
            props,
            new Map(group.map((g) => [{ topic: g.topic, partition: g.partition }, null])),
          );
        }
        await this.o.kafka.deleteGroupOffsets(this.sinkGroup(name));
      }
      return managed
        ? 'The offsets for this connector have been reset successfully'
        : 'The Connect framework-managed offsets for this connector have been reset successfully. However, if this connector manages offsets externally, they will need to be manually reset in the system that the connector uses.';
    });
  }
}

/** Connect's SinkUtils.parseSinkConnectorOffsets, with its 400 messages. */
function parseSinkOffset(o: { partition: Record<string, unknown>; offset: Record<string, unknown> | null }): {
  topic: string;
  partition: number;
  offset: bigint | null;
} {
  const p = o.partition;
  if (p === null || typeof p !== 'object' || !('kafka_topic' in p) || !('kafka_partition' in p)) {
    throw badRequest(
      "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
    );
  }
  const topic = p.kafka_topic;
  if (typeof topic !== 'string' || topic === '') {
    throw badRequest('Kafka topic names must be valid strings');
  }
  const partition = Number(p.kafka_partition);
  if (!Number.isInteger(partition)) {
    throw badRequest(
      `Failed to parse the following Kafka partition value in the provided offsets: '${String(p.kafka_partition)}'. Partition values for sink connectors need to be integers.`,
    );
  }
  if (partition < 0) throw badRequest(`Kafka partitions must be greater than or equal to 0`);
  if (o.offset === null) return { topic, partition, offset: null };
  if (typeof o.offset !== 'object' || !('kafka_offset' in o.offset)) {
    throw badRequest("The offset for a sink connector should either be null or contain the key 'kafka_offset'");
  }
  const raw = o.offset.kafka_offset;
  if (!/^\d+$/.test(String(raw))) {
    throw badRequest(
      `Failed to parse the following Kafka offset value in the provided offsets: '${String(raw)}'. Offset values for sink connectors need to be integers.`,
    );
  }
  return { topic, partition, offset: BigInt(String(raw)) };
}

import {
  type ConfigInfos,
  LeaderRefusedError,
  type Logger,
  NotSupportedError,
  RebalanceInProgressError,
} from '../../api/index.js';
import type { ConfigTransformer } from '../../config-providers/index.js';
import { HerderViews, OFFSETS_NOT_STOPPED, offsetsView, patchedConfig, requestedTargetState } from '../herder-views.js';
import type { PluginRegistry } from '../../plugins/registry.js';
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
} from '../herder-types.js';
import { isFencedError } from '../../kafka/index.js';
import type { KafkaPort } from '../kafka-port.js';
import { type State, type StoredConnector, canonicalJson } from '../stores.js';
import { sinkConsumerGroupId } from '../connector-settings.js';
import { generateTaskConfigs } from '../task-generation.js';
import type { Worker } from '../worker.js';
import { ConnectorStartRetries } from '../connector-start-retries.js';
import { type GroupView, type JoiningMember, type WorkUnit, assignWork, rebalance, unitKey } from './assignor.js';
import type { KafkaConfigStore, RestartRequest } from './kafka-config-store.js';
import type { KafkaOffsetStore } from './kafka-offset-store.js';
import type { KafkaStatusStore } from './kafka-status-store.js';

/** Connect's answer to a write while the group rebalances (or before this worker joined it). */
export const REBALANCE_MESSAGE = 'Cannot complete request because of a conflicting operation (e.g. worker rebalance)';

export interface DistributedHerderOptions {
  workerId: string;
  registry: PluginRegistry;
  worker: Worker;
  /** Resolves `${…}` placeholders for validation and `tasks.max` (the config topic keeps them). */
  transformer: ConfigTransformer;
  configStore: KafkaConfigStore;
  offsetStore: KafkaOffsetStore;
  statusStore: KafkaStatusStore;
  kafka: KafkaPort;
  logger: Logger;
  topicTracking: { enable: boolean; allowReset: boolean };
  /** `Authorization` header value for requests forwarded to other workers (when REST auth is on). */
  forwardAuthorization?: string;
  /** exactly.once.source.support=enabled: the transactional id of a source task (the worker's naming). */
  exactlyOnce?: { transactionalId(connector: string, task: number): string };
}

function traceOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

interface RunningUnit {
  /** What it was started from; a change restarts it. */
  fingerprint: string;
  paused: boolean;
  /**
   * The group generation the instance started in; its status records carry it, so a newer owner's (started
   * in a later generation) is never overwritten by this one's late FAILED after it was fenced.
   */
  generation: number;
  /** Tells this instance's callbacks from those of an earlier instance of the same unit. */
  instance: number;
}

let instances = 0;

/**
 * Distributed mode. Configs, offsets and statuses live in Kafka topics; which worker runs which connector
 * and task follows from the group view the leader hands out (Kafka's group coordinator decides membership
 * and leadership) and the config topic, which every worker follows. Writes run on the leader: other
 * workers forward the REST request to it, and answer 409 while a rebalance is in progress.
 */
export class DistributedHerder implements Herder {
  workerId: string;
  private view: GroupView | null = null;
  private rebalancing = true;
  private started = false;
  private readonly running = new Map<string, RunningUnit>();
  private readonly startRetries = new ConnectorStartRetries();
  private reconciling: Promise<void> = Promise.resolve();
  private dirty = false;
  private clusterId: string | null | undefined;

  constructor(private readonly o: DistributedHerderOptions) {
    this.workerId = o.workerId;
    this.views = new HerderViews({
      registry: o.registry,
      transformer: o.transformer,
      statusStore: o.statusStore,
      worker: o.worker,
      lookup: (name) => this.o.configStore.get(name),
    });
  }

  private readonly views: HerderViews;

  // ---- group and config events ---------------------------------------------------------------------

  onView(view: GroupView): void {
    this.o.logger.info('Joined worker group generation', {
      generation: view.generation,
      leader: view.leader.workerId,
      members: view.members.map((m) => m.workerId),
    });
    this.view = view;
    this.rebalancing = false;
    this.scheduleReconcile();
  }

  onRebalancing(): void {
    this.rebalancing = true;
  }

  /**
   * No longer a group member and not rejoining: stop every instance, or they would run next to the
   * copies the remaining members start (a zombie worker).
   */
  onGroupLost(): void {
    this.o.logger.error('Lost membership of the worker group; stopping all connectors and tasks');
    this.view = null;
    this.rebalancing = true;
    void this.enqueue(() => this.reconcile()).catch((e: unknown) =>
      this.o.logger.error('Stopping work after losing the group failed', { error: e }),
    );
  }

  onConfigChange(): void {
    this.scheduleReconcile();
  }

  onRestartRequest(r: RestartRequest): void {
    void this.enqueue(() => this.restartOwned(r)).catch((e: unknown) =>
      this.o.logger.error(`Restart of ${r.connector} failed`, { error: e }),
    );
  }

  start(): void {
    this.started = true;
    this.scheduleReconcile();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.startRetries.close();
    await this.reconciling.catch(() => {});
    await this.o.worker.close();
    this.running.clear();
    await this.o.statusStore.flush();
  }

  ready(): boolean {
    return this.started && this.view !== null;
  }

  private get generation(): number {
    return this.view?.generation ?? 0;
  }

  private connectorUnits(): Array<{ name: string; tasks: number }> {
    return this.o.configStore
      .names()
      .map((name) => ({ name, tasks: this.o.configStore.get(name)?.taskConfigs.length ?? 0 }));
  }

  /** Work units of this worker under the current view and config. */
  private myUnits(): WorkUnit[] {
    if (!this.view) return [];
    return assignWork(this.view, this.connectorUnits()).get(this.workerId) ?? [];
  }

  /** What this worker runs or is about to run: reported when it joins a rebalance, so it keeps it. */
  ownedUnits(): WorkUnit[] {
    const out = new Map(this.myUnits().map((u) => [unitKey(u), u]));
    for (const key of this.running.keys()) {
      const [connector, task] = key.split('\0') as [string, string];
      out.set(key, { connector, task: Number(task) });
    }
    return [...out.values()];
  }

  /** Leader only, at a rebalance: members keep what they run; the rest is dealt out (see `rebalance`). */
  async assign(members: JoiningMember[]): Promise<Record<string, WorkUnit[]>> {
    // A slow config topic must not fail the rebalance: units it does not know yet are placed once it is read.
    await this.o.configStore
      .readToEnd()
      .catch((error: unknown) => this.o.logger.warn('Assigning from the config topic as read so far', { error }));
    return Object.fromEntries(rebalance(members, this.connectorUnits()));
  }

  private ownerOf(connector: string, task: number): string | null {
    if (!this.view) return null;
    for (const [worker, units] of assignWork(this.view, this.connectorUnits())) {
      if (units.some((u) => u.connector === connector && u.task === task)) {
        return this.view.members.find((m) => m.workerId === worker)?.url ?? null;
      }
    }
    return null;
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.reconciling.then(op, op);
    this.reconciling = next.catch(() => {});
    return next;
  }

  private scheduleReconcile(): void {
    if (this.dirty) return;
    this.dirty = true;
    void this.enqueue(async () => {
      this.dirty = false;
      if (!this.started || !this.view) return;
      await this.reconcile();
    }).catch((e: unknown) => this.o.logger.error('Applying the assignment failed', { error: e }));
  }

  /** Stops what is no longer ours (or changed), starts what is ours and not running. */
  private async reconcile(): Promise<void> {
    const mine = new Map(this.myUnits().map((u) => [unitKey(u), u]));
    for (const [key, unit] of [...this.running]) {
      const [connector, taskText] = key.split('\0') as [string, string];
      const task = Number(taskText);
      const stored = this.o.configStore.get(connector);
      const wanted = mine.get(key);
      const fp = wanted && stored ? this.fingerprint(wanted, stored) : null;
      if (fp !== null && fp === unit.fingerprint) continue;
      this.running.delete(key);
      if (task < 0) {
        this.startRetries.forget(connector);
        await this.o.worker.stopConnector(connector);
      } else await this.o.worker.stopTask(connector, task);
    }
    for (const [key, unit] of mine) {
      const stored = this.o.configStore.get(unit.connector);
      if (!stored) continue;
      const paused = stored.targetState === 'PAUSED';
      const existing = this.running.get(key);
      if (existing) {
        if (existing.paused !== paused) {
          existing.paused = paused;
          if (unit.task < 0) this.setConnectorState(unit.connector, paused ? 'PAUSED' : 'RUNNING');
          else if (paused) this.o.worker.pauseTask(unit.connector, unit.task);
          else this.o.worker.resumeTask(unit.connector, unit.task);
        }
        continue;
      }
      if (unit.task < 0) await this.startConnector(unit.connector, stored);
      // Exactly-once: no task of new task configs starts before the producers of the earlier ones are fenced.
      else if (!this.o.exactlyOnce || this.o.configStore.pendingFencing(unit.connector) === null) {
        await this.startTask(unit.connector, unit.task, stored);
      }
    }
  }

  /**
   * Tasks restart when the connector config or any of its task configs change (a new task generation, as in
   * Connect: work may have moved between the tasks); the Connector object when its config does.
   */
  private fingerprint(unit: WorkUnit, s: StoredConnector): string {
    if (unit.task < 0) return canonicalJson({ c: s.config, stopped: s.targetState === 'STOPPED' });
    return canonicalJson({ c: s.config, t: s.taskConfigs[unit.task] ?? null, all: s.taskConfigs });
  }

  private async startConnector(name: string, stored: StoredConnector): Promise<void> {
    const unit = { connector: name, task: -1 };
    const key = unitKey(unit);
    this.running.set(key, {
      fingerprint: this.fingerprint(unit, stored),
      paused: stored.targetState === 'PAUSED',
      generation: this.generation,
      instance: ++instances,
    });
    if (stored.targetState === 'STOPPED') {
      this.setConnectorState(name, 'STOPPED');
      return;
    }
    const instance = this.running.get(key)!.instance;
    try {
      await this.o.worker.startConnector(
        name,
        stored.config,
        () => void this.enqueue(() => this.publishTaskConfigs(name)),
        (e) => this.setConnectorState(name, 'FAILED', e),
      );
    } catch (error) {
      this.startRetries.afterFailedStart(name, error, this.o.worker.outageWaitMs(stored.config), {
        logger: this.o.logger,
        setState: (state, e) => this.setConnectorState(name, state, e),
        startAgain: () =>
          void this.enqueue(async () => {
            const now = this.o.configStore.get(name);
            // Not if this worker no longer runs it, or it was deleted, stopped or started anew meanwhile.
            if (!this.started || this.running.get(key)?.instance !== instance || !now || now.targetState === 'STOPPED')
              return;
            await this.startConnector(name, now);
          }),
      });
      return;
    }
    this.startRetries.forget(name);
    this.setConnectorState(name, stored.targetState === 'PAUSED' ? 'PAUSED' : 'RUNNING');
    await this.publishTaskConfigs(name);
  }

  /**
   * The Connector's owner generates task configs and writes them (task-… then commit-…) when they
   * changed. (Connect's owner sends them to the leader, which writes; one owner per connector at a time
   * gives the same single writer without the extra hop.)
   */
  private async publishTaskConfigs(name: string): Promise<void> {
    const stored = this.o.configStore.get(name);
    if (!stored || stored.targetState === 'STOPPED' || !this.o.worker.isConnectorRunning(name)) return;
    let configs: Array<Record<string, string>>;
    try {
      configs = await generateTaskConfigs(this.o.worker, this.o.transformer, name, stored.config);
    } catch (error) {
      this.setConnectorState(name, 'FAILED', error);
      return;
    }
    if (canonicalJson(configs) !== canonicalJson(stored.taskConfigs)) {
      await this.o.configStore.putTaskConfigs(name, configs);
    }
    await this.fenceZombies(name);
  }

  /**
   * Exactly-once, KIP-618's zombie fencing, run by the Connector's owner after new task configs: every
   * transactional id an earlier generation of this connector's tasks used is fenced (initTransactions), then a
   * `tasks-fencing-<c>` record lets the new tasks start. A table that moved from one task to another can then no
   * longer be written by the instance that had it.
   */
  private async fenceZombies(name: string): Promise<void> {
    const eos = this.o.exactlyOnce;
    const count = this.o.configStore.pendingFencing(name);
    const open = this.o.kafka.transactionalProducer?.bind(this.o.kafka);
    if (!eos || count === null || !open || !this.o.worker.isConnectorRunning(name)) return;
    try {
      await Promise.all(
        Array.from({ length: count }, async (_, task) => (await open(eos.transactionalId(name, task))).close()),
      );
      await this.o.configStore.putTaskFencing(name, this.o.configStore.get(name)?.taskConfigs.length ?? 0);
    } catch (error) {
      this.o.logger.warn(`Fencing the earlier task producers of ${name} failed; retrying`, { error });
      setTimeout(() => void this.enqueue(() => this.fenceZombies(name)).catch(() => {}), 2000).unref();
    }
  }

  private async startTask(name: string, task: number, stored: StoredConnector): Promise<void> {
    const taskConfig = stored.taskConfigs[task];
    if (!taskConfig || stored.targetState === 'STOPPED') return;
    const unit = { connector: name, task };
    const fingerprint = this.fingerprint(unit, stored);
    const paused = stored.targetState === 'PAUSED';
    const instance = ++instances;
    this.running.set(unitKey(unit), { fingerprint, paused, generation: this.generation, instance });
    this.setTaskState(name, task, 'UNASSIGNED');
    await this.o.worker.startTask(name, task, stored.config, taskConfig, paused, {
      onState: (state, error) => {
        // Late callbacks of an instance that was stopped or replaced are ignored.
        if (this.running.get(unitKey(unit))?.instance !== instance || state === 'UNASSIGNED') return;
        if (state === 'FAILED' && isFencedError(error) && !this.stillWanted(unit, fingerprint)) {
          // A newer instance (new task configs, or a new owner) fenced this one: it reports the task's state.
          this.o.logger.info(`Task ${name}-${task} was fenced by a newer instance`, { connector: name, task });
          return;
        }
        this.setTaskState(name, task, state, error);
      },
    });
  }

  /** Whether this worker should still run this unit as it was started. */
  private stillWanted(unit: WorkUnit, fingerprint: string): boolean {
    const stored = this.o.configStore.get(unit.connector);
    const mine = this.myUnits().some((u) => u.connector === unit.connector && u.task === unit.task);
    return mine && !!stored && this.fingerprint(unit, stored) === fingerprint;
  }

  private async restartOwned(r: RestartRequest): Promise<void> {
    const stored = this.o.configStore.get(r.connector);
    if (!stored) return;
    for (const unit of this.myUnits().filter((u) => u.connector === r.connector)) {
      if (unit.task >= 0 && !r.includeTasks) continue;
      const status =
        unit.task < 0 ? this.o.statusStore.connector(r.connector) : this.o.statusStore.task(r.connector, unit.task);
      if (r.onlyFailed && status?.state !== 'FAILED' && status?.state !== 'RESTARTING') continue;
      this.running.delete(unitKey(unit));
      if (unit.task < 0) {
        await this.o.worker.stopConnector(r.connector);
        await this.startConnector(r.connector, stored);
      } else {
        await this.o.worker.stopTask(r.connector, unit.task);
        await this.startTask(r.connector, unit.task, stored);
      }
    }
  }

  /** The generation a unit's status records carry: the one its running instance started in. */
  private statusGeneration(unit: WorkUnit): number {
    return this.running.get(unitKey(unit))?.generation ?? this.generation;
  }

  private setConnectorState(name: string, state: State, error?: unknown): void {
    this.o.statusStore.putConnector(name, {
      state,
      trace: error === undefined ? null : traceOf(error),
      workerId: this.workerId,
      generation: this.statusGeneration({ connector: name, task: -1 }),
    });
  }

  private setTaskState(name: string, task: number, state: State, error?: unknown): void {
    this.o.statusStore.putTask(name, task, {
      state,
      trace: error === undefined ? null : traceOf(error),
      workerId: this.workerId,
      generation: this.statusGeneration({ connector: name, task }),
    });
  }

  // ---- forwarding ----------------------------------------------------------------------------------

  /** Runs op here when this worker leads the group; otherwise sends the same request to the leader. */
  private async onLeader<T>(
    op: () => Promise<T>,
    request: { method: string; path: string; body?: unknown },
    fromResponse: (status: number, body: unknown) => T,
  ): Promise<T> {
    const view = this.view;
    if (!view || this.rebalancing) throw new RebalanceInProgressError(REBALANCE_MESSAGE);
    if (view.leader.workerId === this.workerId) return op();
    const { status, body } = await this.forward(view.leader.url, request);
    return fromResponse(status, body);
  }

  private async forward(
    baseUrl: string,
    request: { method: string; path: string; body?: unknown },
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (this.o.forwardAuthorization) headers.authorization = this.o.forwardAuthorization;
    let res: Response;
    try {
      res = await fetch(new URL(request.path, baseUrl), {
        method: request.method,
        headers,
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (e) {
      // The leader just died: the group will rebalance; the client should retry, as with Connect's 409.
      this.o.logger.warn(`Forwarding ${request.method} ${request.path} to ${baseUrl} failed`, { error: e });
      throw new RebalanceInProgressError(REBALANCE_MESSAGE);
    }
    const text = await res.text();
    const body: unknown = text === '' ? null : JSON.parse(text);
    if (res.status >= 400) {
      const message = (body as { message?: string } | null)?.message ?? `HTTP ${res.status}`;
      throw new LeaderRefusedError(res.status, message);
    }
    return { status: res.status, body };
  }

  async askPeers(path: string): Promise<{ answers: Array<{ workerId: string; body: unknown }>; failed: string[] }> {
    const peers = (this.view?.members ?? []).filter((m) => m.workerId !== this.workerId);
    const results = await Promise.allSettled(peers.map((m) => this.forward(m.url, { method: 'GET', path })));
    const answers: Array<{ workerId: string; body: unknown }> = [];
    const failed: string[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') answers.push({ workerId: peers[i]!.workerId, body: r.value.body });
      else failed.push(peers[i]!.workerId);
    });
    return { answers, failed };
  }

  private static path(name: string, suffix = ''): string {
    return `/connectors/${encodeURIComponent(name)}${suffix}`;
  }

  // ---- Herder ---------------------------------------------------------------------------------------

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

  private stored(name: string, message?: string): StoredConnector {
    return this.views.stored(name, message);
  }

  private typeOf(config: Record<string, string>): ConnectorType {
    return this.views.typeOf(config);
  }

  private redact(config: Record<string, string>): Record<string, string> {
    return this.views.redact(config);
  }

  connectors(): string[] {
    return this.o.configStore.names();
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
    const request = options.allowReplace
      ? { method: 'PUT', path: DistributedHerder.path(name, '/config'), body: config }
      : {
          method: 'POST',
          path: '/connectors',
          body: { name, config, ...(options.initialState ? { initial_state: options.initialState } : {}) },
        };
    return this.onLeader(
      async () => {
        await this.o.configStore.readToEnd();
        const existing = this.o.configStore.get(name);
        const full = await this.views.acceptedConfig(name, config, existing, options.allowReplace);
        const target = requestedTargetState(options.initialState);
        const info: ConnectorInfo = {
          name,
          config: this.redact(full),
          tasks: (existing?.taskConfigs ?? []).map((_, task) => ({ connector: name, task })),
          type: this.typeOf(full),
        };
        await this.o.configStore.putConnector(name, full, target ?? (existing ? undefined : 'STARTED'));
        return { created: !existing, info };
      },
      request,
      (status, body) => ({ created: status === 201, info: body as ConnectorInfo }),
    );
  }

  async patchConnectorConfig(name: string, patch: Record<string, string | null>): Promise<ConnectorInfo> {
    return this.onLeader(
      async () => {
        const merged = patchedConfig(this.stored(name).config, patch);
        return (await this.putConnectorConfig(name, merged, { allowReplace: true })).info;
      },
      { method: 'PATCH', path: DistributedHerder.path(name, '/config'), body: patch },
      (_s, body) => body as ConnectorInfo,
    );
  }

  async deleteConnector(name: string): Promise<void> {
    await this.onLeader(
      async () => {
        const s = this.stored(name);
        await this.o.configStore.removeConnector(name);
        this.o.statusStore.removeFromTopic(name, s.taskConfigs.length);
      },
      { method: 'DELETE', path: DistributedHerder.path(name) },
      () => undefined,
    );
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
    const qs = `?includeTasks=${options.includeTasks}&onlyFailed=${options.onlyFailed}`;
    return this.onLeader(
      async () => {
        this.stored(name, `Unknown connector: ${name}`);
        let snapshot: ConnectorStateInfo | null = null;
        if (options.includeTasks || options.onlyFailed) {
          const status = this.connectorStatus(name);
          const failed = (s: string) => !options.onlyFailed || s === 'FAILED';
          snapshot = {
            ...status,
            connector: failed(status.connector.state) ? { ...status.connector, state: 'RESTARTING' } : status.connector,
            tasks: status.tasks.map((t) =>
              options.includeTasks && failed(t.state) ? { ...t, state: 'RESTARTING' } : t,
            ),
          };
        }
        // Every worker restarts the instances it owns when it reads this record (KIP-745).
        await this.o.configStore.putRestartRequest({ connector: name, ...options });
        return snapshot;
      },
      { method: 'POST', path: DistributedHerder.path(name, `/restart${qs}`) },
      (status, body) => (status === 202 ? (body as ConnectorStateInfo) : null),
    );
  }

  async restartTask(name: string, task: number): Promise<void> {
    const s = this.o.configStore.get(name);
    if (!s) throw notFound(`Unknown connector: ${name}`);
    if (task < 0 || task >= s.taskConfigs.length) throw notFound(`Unknown task: ${name}-${task}`);
    if (!this.view || this.rebalancing) throw new RebalanceInProgressError(REBALANCE_MESSAGE);
    const owner = this.ownerOf(name, task);
    const self = this.view.members.find((m) => m.workerId === this.workerId)?.url;
    if (owner && owner !== self) {
      await this.forward(owner, { method: 'POST', path: DistributedHerder.path(name, `/tasks/${task}/restart`) });
      return;
    }
    await this.enqueue(async () => {
      const stored = this.stored(name);
      this.running.delete(unitKey({ connector: name, task }));
      await this.o.worker.stopTask(name, task);
      await this.startTask(name, task, stored);
    });
  }

  /** Pause and resume write the target state from any worker, as Connect does. */
  async pauseConnector(name: string): Promise<void> {
    this.stored(name, `Unknown connector ${name}`);
    await this.o.configStore.putTargetState(name, 'PAUSED');
  }

  async resumeConnector(name: string): Promise<void> {
    this.stored(name, `Unknown connector ${name}`);
    await this.o.configStore.putTargetState(name, 'STARTED');
  }

  async stopConnector(name: string): Promise<void> {
    await this.onLeader(
      async () => {
        this.stored(name, `Unknown connector ${name}`);
        // Connect's order: empty task configs first, then the STOPPED target state.
        await this.o.configStore.putTaskConfigs(name, []);
        await this.o.configStore.putTargetState(name, 'STOPPED');
        this.o.statusStore.removeTasks(name);
      },
      { method: 'PUT', path: DistributedHerder.path(name, '/stop') },
      () => undefined,
    );
  }

  connectorTopics(name: string): string[] {
    return this.views.topics(name, this.o.topicTracking);
  }

  resetConnectorTopics(name: string): void {
    this.views.resetTopics(name, this.o.topicTracking);
  }

  async connectorOffsets(name: string): Promise<ConnectorOffsets> {
    const s = this.stored(name);
    if (this.typeOf(s.config) === 'source') return offsetsView(await this.o.offsetStore.list(name));
    return offsetsView(null, await this.o.kafka.groupOffsets(sinkConsumerGroupId(name, s.config)));
  }

  private checkSourceStopped(name: string): void {
    const s = this.stored(name);
    if (s.targetState !== 'STOPPED' || s.taskConfigs.length > 0) throw badRequest(OFFSETS_NOT_STOPPED(name));
    if (this.typeOf(s.config) !== 'source') {
      throw new NotSupportedError(
        'Altering or resetting sink connector offsets is not supported in distributed mode yet',
      );
    }
  }

  async alterConnectorOffsets(name: string, body: ConnectorOffsets): Promise<string> {
    return this.onLeader(
      async () => {
        if (!body || !Array.isArray(body.offsets) || body.offsets.length === 0) {
          throw badRequest('Partitions / offsets need to be provided for an alter offsets request');
        }
        this.checkSourceStopped(name);
        for (const o of body.offsets) {
          if (o.partition === null || typeof o.partition !== 'object' || Array.isArray(o.partition)) {
            throw badRequest('Source partitions may not be null');
          }
        }
        await this.o.offsetStore.set(
          name,
          body.offsets.map((o) => ({ partition: o.partition, offset: o.offset })),
        );
        return 'The Connect framework-managed offsets for this connector have been altered successfully. However, if this connector manages offsets externally, they will need to be manually altered in the system that the connector uses.';
      },
      { method: 'PATCH', path: DistributedHerder.path(name, '/offsets'), body },
      (_s, b) => (b as { message: string }).message,
    );
  }

  async resetConnectorOffsets(name: string): Promise<string> {
    return this.onLeader(
      async () => {
        this.checkSourceStopped(name);
        const entries = await this.o.offsetStore.list(name);
        await this.o.offsetStore.set(
          name,
          entries.map((e) => ({ partition: e.partition, offset: null })),
        );
        return 'The Connect framework-managed offsets for this connector have been reset successfully. However, if this connector manages offsets externally, they will need to be manually reset in the system that the connector uses.';
      },
      { method: 'DELETE', path: DistributedHerder.path(name, '/offsets') },
      (_s, b) => (b as { message: string }).message,
    );
  }
}

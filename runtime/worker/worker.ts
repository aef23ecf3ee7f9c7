import {
  ConfigError,
  ErpStreamError,
  type KafkaAccess,
  type Logger,
  type SinkConnector,
  type SinkRecord,
  type SourceConnector,
  type SourcePartition,
  type SourceRecord,
  type SourceTaskContext,
} from '../api/index.js';
import { type ConfigTransformer, reverseTransform } from '../config-providers/index.js';
import {
  describeWaiting,
  OUTAGE_MAX_DELAY_MS,
  OutageTimeoutError,
  outageInCauses,
  outageRestartDelayMs,
  outageWaitMs,
  type WaitingStatus,
  waitingStatus,
} from '../errors/outage.js';
import { ErrorReporter } from '../errors/reporter.js';
import { type ErrorHandlingConfig, StoppedWhileWaitingError, waitOutOutage } from '../errors/retry.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { TransformChain } from '../transforms/index.js';
import type { Compression } from '../kafka/compression.js';
import { isFencedError } from '../kafka/index.js';
import type { KafkaPort, OutRecord, ProducerPort, TransactionalProducerPort } from './kafka-port.js';
import type { WorkerMetrics } from './metrics.js';
import { WorkerSinkTask } from './sink-task.js';
import { type SourceTaskDeps, TransactionRequests, WorkerSourceTask } from './source-task.js';
import type { OffsetEntry, OffsetStore } from './stores.js';
import { CONNECTOR_CLASS_CONFIG } from './connector-config.js';
import { connectorSettings, type SourceConnectorSettings, type TopicCreationSettings } from './connector-settings.js';
import { closeQuietly, createConverters, type TaskListener } from './task-context.js';
import { buildTaskTransforms } from './task-transforms.js';
import { type ConnectorPlugin, resolveConnectorPlugin } from './validation.js';

export interface WorkerOptions {
  registry: PluginRegistry;
  kafka: KafkaPort;
  offsets: OffsetStore;
  transformer: ConfigTransformer;
  logger: Logger;
  /** Worker-level settings (converter defaults and their sub-configs). */
  workerProps: Readonly<Record<string, string>>;
  converterDefaults: { key: string; value: string; header: string };
  offsetFlushIntervalMs: number;
  gracefulShutdownMs: number;
  /** `producer.compression.type` of the worker config. */
  compression?: Compression;
  metrics: WorkerMetrics;
  onTopic(connector: string, topic: string): void;
  /**
   * `exactly.once.source.support=enabled` (distributed mode): each source task gets a transactional
   * producer with id `<group.id>-<connector>-<task>` and writes its offsets through it.
   */
  exactlyOnce?: {
    groupId: string;
    offsetRecords(connector: string, entries: readonly OffsetEntry[]): OutRecord[];
  };
}

interface RunningConnector {
  plugin: ConnectorPlugin;
  instance: SourceConnector | SinkConnector;
  resolved: Record<string, string>;
}

type RunningTask = WorkerSourceTask | WorkerSinkTask;

/**
 * The transactional id of a source task's producer under exactly-once (Connect's `<group.id>-<connector>-<task>`).
 * The worker opens producers with it and the distributed herder fences earlier generations by it, so both must
 * derive it from this one rule.
 */
export function taskTransactionalId(groupId: string, connector: string, taskId: number): string {
  return `${groupId}-${connector}-${taskId}`;
}

/** Runs connector and task instances for configs the herder hands it. Knows nothing about storage. */
export class Worker {
  /** A task's latest progress report (REST status and /metrics show it). */
  taskProgress(connector: string, task: number): Record<string, unknown> | undefined {
    return this.o.metrics.progressOf(connector, task);
  }

  /** What a task this worker runs is waiting for (a broker, registry or database outage), if anything. */
  taskWaiting(connector: string, task: number): WaitingStatus | null {
    return this.o.metrics.waitingOf(connector, task);
  }

  private readonly connectors = new Map<string, RunningConnector>();
  private readonly tasks = new Map<string, RunningTask>();
  /** One data-path producer per codec in use (the worker's, and connectors' producer.override.compression.type). */
  private readonly producers = new Map<Compression, Promise<ProducerPort>>();
  private readonly txProducers = new Map<string, TransactionalProducerPort>();
  /** Tasks being started: stopping one ends its start (and a wait for an outage in it) at once. */
  private readonly starting = new Map<string, { stop: AbortController; done: Promise<void> }>();
  /** Tasks whose target state is PAUSED, so a task started again after an outage starts paused too. */
  private readonly paused = new Set<string>();

  constructor(private readonly o: WorkerOptions) {}

  private async resolve(config: Readonly<Record<string, string>>, what: string): Promise<Record<string, string>> {
    const { data, problems } = await this.o.transformer.transform(config);
    // Handing the connector "${env:ERP_DB_URL}" verbatim only moves the failure somewhere obscure (a mangled URL,
    // a refused password): fail here, naming the placeholder (never a value).
    if (problems.length > 0) {
      throw new ConfigError(
        `Cannot start ${what}: ${problems.map((p) => `${p.message} (${p.key})`).join('; ')}`,
        problems[0]!.key,
      );
    }
    return data;
  }

  /** Starts the Connector object; throws if it fails (the herder records FAILED with the trace). */
  async startConnector(
    name: string,
    rawConfig: Record<string, string>,
    onReconfigure: () => void,
    onError: (e: Error) => void,
  ): Promise<void> {
    await this.stopConnector(name);
    const plugin = resolveConnectorPlugin(this.o.registry, rawConfig[CONNECTOR_CLASS_CONFIG] ?? '');
    const resolved = await this.resolve(rawConfig, `connector ${name}`);
    const instance = plugin.create();
    instance.initialize?.({
      requestTaskReconfiguration: onReconfigure,
      raiseError: onError,
      logger: this.o.logger.child({ connector: name }),
    });
    await instance.start(resolved);
    this.connectors.set(name, { plugin, instance, resolved });
  }

  /** The connector's task configs, reverse-transformed so secrets stay placeholders. */
  async taskConfigs(
    name: string,
    rawConfig: Record<string, string>,
    maxTasks: number,
  ): Promise<Array<Record<string, string>>> {
    const c = this.connectors.get(name);
    if (!c) return [];
    const configs = await c.instance.taskConfigs(maxTasks);
    // Connect adds `task.class` to every task config; tools show it.
    const taskClass = `${c.plugin.className.replace(/Connector$/, '')}Task`;
    return configs.map((t) => ({ ...reverseTransform(rawConfig, c.resolved, t), 'task.class': taskClass }));
  }

  async stopConnector(name: string): Promise<void> {
    const c = this.connectors.get(name);
    if (!c) return;
    this.connectors.delete(name);
    await closeQuietly(this.o.logger, `connector ${name}`, () => c.instance.stop());
  }

  /** `outage.wait.timeout.ms` of a connector's config, else the worker's, else the default. */
  outageWaitMs(rawConnectorConfig: Readonly<Record<string, string>>): number {
    return outageWaitMs(rawConnectorConfig, this.o.workerProps);
  }

  isConnectorRunning(name: string): boolean {
    return this.connectors.has(name);
  }

  private producer(compression: Compression = this.o.compression ?? 'none'): Promise<ProducerPort> {
    let p = this.producers.get(compression);
    if (!p) {
      const clientId =
        compression === (this.o.compression ?? 'none')
          ? 'erpstream-worker-producer'
          : `erpstream-worker-producer-${compression}`;
      p = this.o.kafka.producer(clientId, { compression });
      // A failed connect is not kept: the next task start tries again.
      p.catch(() => this.producers.delete(compression));
      this.producers.set(compression, p);
    }
    return p;
  }

  startTask(
    connector: string,
    taskId: number,
    rawConnectorConfig: Record<string, string>,
    rawTaskConfig: Record<string, string>,
    paused: boolean,
    listener: TaskListener,
  ): Promise<void> {
    return this.startTaskInstance(connector, taskId, rawConnectorConfig, rawTaskConfig, paused, listener, null);
  }

  /**
   * @param outageSince this instance replaces one that an outage ended (see restartOnRetriableFailure): when that
   *   outage began. An exactly-once producer waits for the broker for what is left of outage.wait.timeout.ms.
   */
  private async startTaskInstance(
    connector: string,
    taskId: number,
    rawConnectorConfig: Record<string, string>,
    rawTaskConfig: Record<string, string>,
    paused: boolean,
    outerListener: TaskListener,
    outageSince: number | null,
  ): Promise<void> {
    const key = `${connector}-${taskId}`;
    await this.stopTask(connector, taskId);
    if (paused) this.paused.add(key);
    else this.paused.delete(key);
    const starting = new AbortController();
    let started!: () => void;
    this.starting.set(key, { stop: starting, done: new Promise<void>((r) => (started = r)) });
    const logger = this.o.logger.child({ connector, task: taskId });
    let listener = this.watchWaiting(connector, taskId, outerListener, logger);
    // A new instance of this task, from its committed offsets, after an outage that began at `since`.
    const startAgain = (since: number) =>
      this.startTaskInstance(
        connector,
        taskId,
        rawConnectorConfig,
        rawTaskConfig,
        this.paused.has(key),
        outerListener,
        since,
      );
    try {
      const plugin = resolveConnectorPlugin(this.o.registry, rawConnectorConfig[CONNECTOR_CLASS_CONFIG] ?? '');
      const connectorConfig = await this.resolve(rawConnectorConfig, `connector ${connector}`);
      const taskProps = await this.resolve(rawTaskConfig, `task ${key}`);
      // The framework keys, parsed once; everything below reads these typed settings, never the raw strings.
      const settings = connectorSettings(plugin.type, connector, connectorConfig, this.o.workerProps);
      const converters = await createConverters(
        this.o.registry,
        settings.converters,
        this.o.workerProps,
        this.o.converterDefaults,
      );
      const { errors, deadLetterQueue } = settings;
      // This task's listener, wrapped so that an instance failing on an outage is replaced (restartOnRetriableFailure).
      const restartedOnOutage = (
        instance: () => RunningTask | undefined,
        fallbackWhat: string,
        provenBack: string | null = null,
      ) =>
        this.restartOnRetriableFailure({
          key,
          instance,
          listener,
          logger,
          outageSince,
          waitMs: errors.outageWaitMs ?? -1,
          fallbackWhat,
          restart: startAgain,
          provenBack,
        });
      const dlq =
        deadLetterQueue === null
          ? null
          : {
              settings: { topic: deadLetterQueue.topic, contextHeaders: deadLetterQueue.contextHeaders },
              producer: async (): Promise<ProducerPort> => {
                // Connect creates a missing DLQ topic with one partition. An outage meanwhile is waited out.
                await waitOutOutage(errors, listener, () =>
                  this.o.kafka.ensureTopic(deadLetterQueue.topic, {
                    partitions: 1,
                    replicationFactor: deadLetterQueue.replicationFactor,
                  }),
                );
                const shared = await this.producer();
                return {
                  send: (records) => waitOutOutage(errors, listener, () => shared.send(records)),
                  close: async () => {},
                };
              },
            };
      const reporter = new ErrorReporter({ connector, task: taskId }, errors, logger, dlq);
      const onTopic = (t: string) => this.o.onTopic(connector, t);
      const m = this.o.metrics.task(connector, taskId);
      if (plugin.type === 'source' && settings.kind === 'source') {
        const task = plugin.createTask();
        const ctx: SourceTaskContext = {
          taskId,
          connectorName: connector,
          logger,
          status: {
            progress: (info) => {
              m.progress(info);
              logger.debug('progress', info);
            },
          },
          offsetStorageReader: {
            offset: (p: SourcePartition) => this.readOffsets(connector, taskId, () => this.o.offsets.get(connector, p)),
            offsets: (ps: SourcePartition[]) =>
              this.readOffsets(
                connector,
                taskId,
                async () =>
                  new Map(await Promise.all(ps.map(async (p) => [p, await this.o.offsets.get(connector, p)] as const))),
              ),
          },
        };
        // Fence first: initTransactions aborts a zombie's open transaction before this task reads offsets. A broker
        // outage at start (or still going on, for an instance started again after one) is waited out.
        const transactions = await this.transactionsFor(connector, taskId, settings, {
          errors,
          listener,
          since: outageSince ?? Date.now(),
          signal: starting.signal,
        });
        const self: { runner?: WorkerSourceTask } = {};
        // Its transactional producer connected: a broker outage that ended the previous instance is over.
        listener = restartedOnOutage(() => self.runner, 'the source system', transactions ? 'the Kafka broker' : null);
        const requests = transactions?.requests;
        task.initialize(requests ? { ...ctx, transactionContext: requests } : ctx);
        const chain = await TransformChain.build<SourceRecord>(connectorConfig, { registry: this.o.registry });
        const runner = new WorkerSourceTask({
          connector,
          taskId,
          task,
          taskClass: plugin.className,
          props: taskProps,
          chain,
          converters,
          producer: await this.producer(settings.producerCompression ?? undefined),
          offsets: this.o.offsets,
          errors,
          reporter,
          logger,
          listener,
          offsetFlushIntervalMs: this.o.offsetFlushIntervalMs,
          onTopic,
          ensureTopic: (t) => this.ensureTopic(t, settings.topicCreation),
          metrics: { polled: m.polled, produced: m.produced, offsetCommit: m.offsetCommit, captureLag: m.captureLag },
          ...(transactions ? { transactions } : {}),
        });
        if (starting.signal.aborted) throw new StoppedWhileWaitingError('the task to start');
        self.runner = runner;
        this.tasks.set(key, runner);
        await runner.start(paused);
      } else if (plugin.type === 'sink' && settings.kind === 'sink') {
        const self: { runner?: WorkerSinkTask } = {};
        listener = restartedOnOutage(() => self.runner, "the sink's destination or database");
        const task = plugin.createTask();
        const chain = await TransformChain.build<SinkRecord>(connectorConfig, { registry: this.o.registry });
        const { topics, topicsRegex } = settings;
        // Like a broker with auto.create.topics.enable, so a sink may start before its source. A broker outage at
        // start is waited out like one while running.
        const consumer = await waitOutOutage(errors, listener, async () => {
          for (const t of topics) await this.ensureTopic(t, settings.topicCreation);
          return this.o.kafka.consumer(settings.consumerGroupId, `connector-consumer-${key}`, settings.consumerFetch);
        });
        let runner: WorkerSinkTask | null = null;
        task.initialize({
          taskId,
          connectorName: connector,
          logger,
          status: {
            progress: (info) => {
              m.progress(info);
              logger.debug('progress', info);
            },
          },
          offset: (offsets) => runner?.rewind(offsets),
          pause: (...partitions) => runner?.pausePartitions(partitions),
          resume: (...partitions) => runner?.resumePartitions(partitions),
          requestCommit: () => {},
          errantRecordReporter:
            dlq || errors.logEnable
              ? reporter.errantRecordReporter((r) => runner?.errantRecordFinder()(r), plugin.className)
              : null,
          assignment: () => runner?.assignment() ?? [],
          ...(this.o.kafka.pluginAccess ? { kafka: this.o.kafka.pluginAccess() } : {}),
          transforms: (props, prefix) => buildTaskTransforms(this.o.registry, props, prefix),
        });
        runner = new WorkerSinkTask({
          connector,
          taskId,
          task,
          taskClass: plugin.className,
          props: taskProps,
          subscription: topicsRegex !== null ? { regex: new RegExp(topicsRegex) } : { topics: [...topics] },
          chain,
          converters,
          consumer,
          errors,
          reporter,
          logger,
          listener,
          onTopic,
          metrics: { consumed: m.polled, put: m.put, offsetCommit: m.offsetCommit, deliveryLag: m.deliveryLag },
          commitIntervalMs: this.o.offsetFlushIntervalMs,
        });
        if (starting.signal.aborted) throw new StoppedWhileWaitingError('the task to start');
        self.runner = runner;
        this.tasks.set(key, runner);
        await runner.start(paused);
      }
      m.dlq(() => reporter.dlqCount);
    } catch (error) {
      await this.closeTxProducer(key);
      if (starting.signal.aborted && error instanceof StoppedWhileWaitingError) {
        // Stopped (or started anew) while this start waited: the stop or the newer start reports the state.
        listener.onState('UNASSIGNED');
        return;
      }
      logger.error(`Failed to start task ${key}`, { error });
      listener.onState('FAILED', error);
    } finally {
      if (this.starting.get(key)?.stop === starting) this.starting.delete(key);
      started();
    }
  }

  /**
   * A task that failed on an outage (a retriable broker or database error anywhere in its cause chain: a source or
   * sink whose start() could not reach its database, a LookupSink delivery stage that failed after put() returned,
   * which redelivering a later batch cannot retry) is started again, as a new task object (a task object is started
   * once), from its committed offsets instead of staying FAILED: it stays RUNNING and its status says what it waits
   * for, attempts follow a backoff of at most OUTAGE_MAX_DELAY_MS, and only an outage outlasting
   * outage.wait.timeout.ms (-1: never) leaves it FAILED. The committed offsets are those of records the task
   * finished, so resuming from them loses nothing (at least once, as any restart). Exactly-once sources the same
   * way, whether the broker (during a transaction: begin, a send, the offsets, the commit) or the source's database
   * was out: nothing of the failed transaction is committed, the new instance's producer (same transactional id)
   * fences the old one (initTransactions aborts its transaction unless the commit reached the coordinator) and it
   * reads the offsets of the committed transactions, so an ambiguous commit neither loses nor repeats a record.
   */
  private restartOnRetriableFailure({
    key,
    instance,
    listener,
    logger,
    outageSince,
    waitMs,
    fallbackWhat,
    restart,
    provenBack,
  }: {
    key: string;
    instance: () => RunningTask | undefined;
    listener: TaskListener;
    logger: Logger;
    outageSince: number | null;
    /** outage.wait.timeout.ms; -1: forever. */
    waitMs: number;
    /** What a retriable failure without a broker or registry code waits for (`the source system`). */
    fallbackWhat: string;
    restart: (outageSince: number) => Promise<void>;
    /** What this instance's start reached (an exactly-once producer: `the Kafka broker`), else null. */
    provenBack: string | null;
  }): TaskListener {
    let recovered = outageSince === null;
    // An instance reports RUNNING as soon as it started, before anything proves the outage over: a failure within
    // twice the longest backoff of that is the same outage (its wait goes on), a later one a new outage. A failure
    // on what the instance's start reached (`provenBack`) is a new outage whenever it comes.
    let runningAt: number | null = null;
    // Once this instance failed on an outage and a new one is on its way, what it reports as it is stopped (its
    // UNASSIGNED) is not the task's state: the task stays RUNNING and waiting until its replacement reports.
    let handedOver = false;
    return {
      onWaiting: (w) => listener.onWaiting?.(w),
      onState: (state, error) => {
        if (handedOver) return;
        // A producer fenced by a newer instance of this task (exactly-once) is no outage: that instance replaced it.
        const what = state === 'FAILED' && !isFencedError(error) ? outageInCauses(error, fallbackWhat) : null;
        const self = instance();
        const now = Date.now();
        if (state === 'RUNNING' || state === 'PAUSED') runningAt ??= now;
        const continuing =
          outageSince !== null &&
          what !== provenBack &&
          (runningAt === null || now - runningAt < 2 * OUTAGE_MAX_DELAY_MS);
        const since = continuing ? outageSince : now;
        const waited = now - since;
        if (what === null || self === undefined || this.tasks.get(key) !== self || (waitMs >= 0 && waited > waitMs)) {
          if ((state === 'RUNNING' || state === 'PAUSED') && !recovered) {
            recovered = true;
            listener.onWaiting?.(null);
          }
          if (what !== null && waitMs >= 0 && waited > waitMs) {
            listener.onState(state, new OutageTimeoutError(what, waited, error));
            return;
          }
          listener.onState(state, error);
          return;
        }
        handedOver = true;
        // As in every other outage, the task stays RUNNING and its status says what it waits for.
        listener.onState('RUNNING');
        listener.onWaiting?.(waitingStatus(what, since, error));
        const delayMs = outageRestartDelayMs(waited);
        logger.warn(
          `Task ${key} failed on an outage of ${what}; starting it again from its committed offsets in ${Math.round(delayMs)} ms`,
          { error },
        );
        const timer = setTimeout(() => {
          // Not if the task was stopped, deleted or started anew meanwhile.
          if (this.tasks.get(key) !== self) return;
          void restart(since).catch((e: unknown) => listener.onState('FAILED', e));
        }, delayMs);
        timer.unref();
      },
    };
  }

  /**
   * The task's listener, also recording outage waits for the status and /metrics and logging when one starts and
   * ends. A task that fails or stops no longer waits.
   */
  private watchWaiting(connector: string, taskId: number, listener: TaskListener, logger: Logger): TaskListener {
    const m = this.o.metrics.task(connector, taskId);
    let current: WaitingStatus | null = null;
    const set = (w: WaitingStatus | null) => {
      if (w !== null && current === null) logger.warn(describeWaiting(w));
      if (w === null && current !== null) logger.info(`No longer waiting for ${current.for} (since ${current.since})`);
      current = w;
      m.waiting(w);
      listener.onWaiting?.(w);
    };
    return {
      onState: (state, error) => {
        if (state !== 'RUNNING' && current !== null) set(null);
        listener.onState(state, error);
      },
      onWaiting: set,
    };
  }

  /**
   * Exactly-once: a read of the offsets topic waits for the transactions open on it to end. This task's own earlier
   * transaction is not among them (its producer, created before, fenced it). A hanging transaction of any task of
   * this cluster (one its coordinator lost, left by a broker restart) is ended by the offset store while it waits
   * (HangingTransactionRepair). So a read that still outlasts the store's cap waits for another producer's: the
   * error says which task waits and what to do instead of a bare timeout.
   */
  private async readOffsets<T>(connector: string, taskId: number, read: () => Promise<T>): Promise<T> {
    const eos = this.o.exactlyOnce;
    try {
      return await read();
    } catch (e) {
      if (!eos || !(e instanceof ErpStreamError) || e.code !== 'ERPSTREAM_TIMEOUT') throw e;
      const id = taskTransactionalId(eos.groupId, connector, taskId);
      throw new ErpStreamError(
        'ERPSTREAM_TIMEOUT',
        `Task ${connector}-${taskId} (transactional id ${id}) could not read its source offsets: ${e.message}. ` +
          `The read waits for every transaction open on the offsets topic to end. This task's own earlier one was ` +
          `aborted when its producer fenced it, and a hanging one of this cluster's tasks would have been ended ` +
          `(see the worker log): another producer's transaction is still open (a task of another worker group not ` +
          `restarted or fenced yet, or a producer with a long transaction.timeout.ms). Find it with ` +
          `kafka-transactions.sh --bootstrap-server <broker> find-hanging --broker-id <id>; the broker aborts a live ` +
          `one once its transaction.timeout.ms has passed. Then restart this task ` +
          `(POST /connectors/${connector}/tasks/${taskId}/restart).`,
        { cause: e, retriable: true },
      );
    }
  }

  private async transactionsFor(
    connector: string,
    taskId: number,
    settings: SourceConnectorSettings,
    wait: { errors: ErrorHandlingConfig; listener: TaskListener; since: number; signal: AbortSignal },
  ): Promise<SourceTaskDeps['transactions']> {
    const eos = this.o.exactlyOnce;
    if (!eos) return undefined;
    // Invariant: exactly-once is only enabled with a port that has one (checked at start-up).
    if (!this.o.kafka.transactionalProducer) throw new Error('This Kafka port has no transactional producer');
    const boundary = settings.transactionBoundary;
    const key = `${connector}-${taskId}`;
    const kafka = this.o.kafka;
    const open = () =>
      kafka.transactionalProducer!(taskTransactionalId(eos.groupId, connector, taskId), {
        compression: settings.producerCompression ?? this.o.compression ?? 'none',
      });
    const producer = await this.waitForBroker(wait, open);
    if (wait.signal.aborted) {
      await closeQuietly(this.o.logger, `transactional producer ${key}`, () => producer.close());
      throw new StoppedWhileWaitingError('the Kafka broker');
    }
    this.txProducers.set(key, producer);
    return {
      producer,
      boundary,
      ...(boundary === 'connector' ? { requests: new TransactionRequests() } : {}),
      intervalMs: settings.transactionBoundaryIntervalMs ?? this.o.offsetFlushIntervalMs,
      offsetRecords: (entries) => eos.offsetRecords(connector, entries),
    };
  }

  /** Waits for the broker for what is left of outage.wait.timeout.ms since the outage began. */
  private async waitForBroker<T>(
    o: { errors: ErrorHandlingConfig; listener: TaskListener; since: number; signal: AbortSignal },
    op: () => Promise<T>,
  ): Promise<T> {
    const limit = o.errors.outageWaitMs ?? -1;
    const left = limit < 0 ? -1 : Math.max(0, limit - (Date.now() - o.since));
    try {
      return await waitOutOutage({ ...o.errors, outageWaitMs: left }, o.listener, op, o.signal);
    } catch (e) {
      // The wait counts from the outage's start, not from this instance's.
      if (e instanceof OutageTimeoutError)
        throw new OutageTimeoutError('the Kafka broker', Date.now() - o.since, e.cause);
      throw e;
    }
  }

  private async closeTxProducer(key: string): Promise<void> {
    const p = this.txProducers.get(key);
    if (!p) return;
    this.txProducers.delete(key);
    await closeQuietly(this.o.logger, `transactional producer ${key}`, () => p.close());
  }

  /** Topic settings from `topic.creation.default.*` when given (KIP-158), else one partition. */
  private ensureTopic(topic: string, creation: TopicCreationSettings): Promise<void> {
    return this.o.kafka.ensureTopic(topic, {
      partitions: creation.defaultPartitions,
      replicationFactor: creation.defaultReplicationFactor,
    });
  }

  async stopTask(connector: string, taskId: number): Promise<void> {
    const key = `${connector}-${taskId}`;
    const start = this.starting.get(key);
    if (start) {
      // One instance at a time: a start still running (a new instance waiting for the broker) ends first, so two
      // producers with this task's transactional id never fence each other.
      this.starting.delete(key);
      start.stop.abort();
      await start.done;
    }
    const t = this.tasks.get(key);
    if (!t) return;
    this.tasks.delete(key);
    await t.stop(this.o.gracefulShutdownMs);
    await this.closeTxProducer(key);
  }

  pauseTask(connector: string, taskId: number): void {
    this.paused.add(`${connector}-${taskId}`);
    this.tasks.get(`${connector}-${taskId}`)?.pause();
  }

  resumeTask(connector: string, taskId: number): void {
    this.paused.delete(`${connector}-${taskId}`);
    this.tasks.get(`${connector}-${taskId}`)?.resume();
  }

  /** A fresh, unstarted instance for alterOffsets() (Connect does the same). */
  connectorInstance(rawConfig: Record<string, string>): {
    plugin: ConnectorPlugin;
    instance: SourceConnector | SinkConnector;
  } {
    const plugin = resolveConnectorPlugin(this.o.registry, rawConfig[CONNECTOR_CLASS_CONFIG] ?? '');
    return { plugin, instance: plugin.create() };
  }

  resolveConfig(config: Record<string, string>): Promise<Record<string, string>> {
    return this.resolve(config, 'offsets request');
  }

  /** The Kafka access tasks get (SinkTaskContext.kafka), for plugin capabilities the REST layer drives. */
  pluginKafka(): KafkaAccess | undefined {
    return this.o.kafka.pluginAccess?.();
  }

  async close(): Promise<void> {
    const names = [...this.tasks.keys()];
    await Promise.all(
      names.map((k) => {
        const i = k.lastIndexOf('-');
        return this.stopTask(k.slice(0, i), Number(k.slice(i + 1)));
      }),
    );
    await Promise.all([...this.connectors.keys()].map((n) => this.stopConnector(n)));
    for (const [codec, pending] of this.producers) {
      const p = await pending.catch(() => null);
      await closeQuietly(this.o.logger, `producer (${codec})`, () => p?.close());
    }
    this.producers.clear();
  }
}

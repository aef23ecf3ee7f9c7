import { type ConfigInfos, InvalidRequestError, type KafkaAccess, NotFoundError } from '../api/index.js';
import { describeWaiting, type WaitingStatus } from '../errors/outage.js';
import type { State } from './stores.js';

/*
 * The herders raise the domain errors of runtime/api/errors.ts (not found, already exists, rebalance in progress…)
 * and never choose an HTTP status: runtime/rest/error-status.ts maps their codes, as Connect's exception mapper.
 */
export const notFound = (message: string) => new NotFoundError(message);
export const badRequest = (message: string) => new InvalidRequestError(message);

export type ConnectorType = 'source' | 'sink' | 'unknown';

export interface ConnectorTaskId {
  connector: string;
  task: number;
}

export interface ConnectorInfo {
  name: string;
  config: Record<string, string>;
  tasks: ConnectorTaskId[];
  type: ConnectorType;
}

export interface StateEntry {
  state: State;
  worker_id: string;
  /** The plugin's version (Connect 4.x, KIP-891), when the connector class is known. */
  version?: string;
  trace?: string;
}

export interface TaskStateEntry extends StateEntry {
  id: number;
  /**
   * erpstream extension: the task's latest progress report (snapshot rows done/total, parked records…),
   * present only for tasks this worker runs. Connect clients ignore fields they do not know.
   */
  progress?: Record<string, unknown>;
  /**
   * erpstream extension: set while a RUNNING task waits for a broker, registry or database to come back (then
   * `trace` says the same in one line, when the task has no other trace). Present only for tasks this worker runs.
   */
  waiting?: WaitingStatus;
}

/** The REST shape of one task's status. */
export function taskStateEntry(
  id: number,
  t: { state: State; workerId: string; trace: string | null },
  progress: Record<string, unknown> | undefined,
  waiting: WaitingStatus | null = null,
  version?: string,
): TaskStateEntry {
  const waits = waiting !== null && t.state === 'RUNNING';
  const trace = t.trace ?? (waits ? describeWaiting(waiting) : null);
  return {
    id,
    state: t.state,
    worker_id: t.workerId,
    ...(version !== undefined ? { version } : {}),
    ...(trace ? { trace } : {}),
    ...(progress ? { progress } : {}),
    ...(waits ? { waiting } : {}),
  };
}

export interface ConnectorStateInfo {
  name: string;
  connector: StateEntry;
  tasks: TaskStateEntry[];
  type: ConnectorType;
}

export interface TaskInfo {
  id: ConnectorTaskId;
  config: Record<string, string>;
}

export interface ConnectorOffsets {
  offsets: Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> | null }>;
}

export type InitialState = 'RUNNING' | 'PAUSED' | 'STOPPED';

/**
 * What the REST layer needs from a herder. The standalone herder implements it; a distributed herder
 * (Kafka-topic-backed stores, group coordination) implements the same interface.
 */
export interface Herder {
  readonly workerId: string;
  kafkaClusterId(): Promise<string | null>;
  ready(): boolean;
  connectors(): string[];
  connectorInfo(name: string): ConnectorInfo;
  connectorConfig(name: string): Record<string, string>;
  putConnectorConfig(
    name: string,
    config: Record<string, string>,
    options: { allowReplace: boolean; initialState?: InitialState },
  ): Promise<{ created: boolean; info: ConnectorInfo }>;
  patchConnectorConfig(name: string, patch: Record<string, string | null>): Promise<ConnectorInfo>;
  deleteConnector(name: string): Promise<void>;
  connectorStatus(name: string): ConnectorStateInfo;
  taskStatus(name: string, task: number): TaskStateEntry;
  taskConfigs(name: string): TaskInfo[];
  restartConnector(
    name: string,
    options: { includeTasks: boolean; onlyFailed: boolean },
  ): Promise<ConnectorStateInfo | null>;
  restartTask(name: string, task: number): Promise<void>;
  pauseConnector(name: string): Promise<void>;
  resumeConnector(name: string): Promise<void>;
  stopConnector(name: string): Promise<void>;
  connectorTopics(name: string): string[];
  resetConnectorTopics(name: string): void;
  connectorOffsets(name: string): Promise<ConnectorOffsets>;
  alterConnectorOffsets(name: string, offsets: ConnectorOffsets): Promise<string>;
  resetConnectorOffsets(name: string): Promise<string>;
  validateConnectorConfig(config: Record<string, string | null>, pluginName?: string): Promise<ConfigInfos>;
  /**
   * erpstream extension (distributed mode): a GET answered by each other worker of the group, with the
   * forwarding credentials, for what only lives in each worker's memory (the console's metric history).
   * A worker that does not answer is named in `failed`. Standalone herders have no peers.
   */
  askPeers?(path: string): Promise<{ answers: Array<{ workerId: string; body: unknown }>; failed: string[] }>;
  /** What routes of plugin capabilities (reconcile, inspection) need from the worker; absent on test herders. */
  services?(): HerderServices;
}

export interface HerderServices {
  /** A connector config with its `${provider:…}` placeholders resolved, as its tasks get it. Never echo it. */
  resolveConfig(config: Record<string, string>): Promise<Record<string, string>>;
  /** The Kafka access the worker lends its plugins (undefined without Kafka). */
  kafka(): KafkaAccess | undefined;
}

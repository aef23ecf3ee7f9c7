/**
 * Kafka Connect REST entities as Apache Kafka Connect 3.9 serializes them (runtime/rest/entities/*.java).
 * Field names are Connect's own (snake_case) so JSON output of the CLI matches what curl shows.
 */

export interface ServerInfo {
  version: string;
  commit?: string;
  kafka_cluster_id?: string;
}

export type ConnectorType = 'source' | 'sink' | 'unknown';
export type ConnectorConfig = Record<string, string>;

export interface ConnectorTaskId {
  connector: string;
  task: number;
}

export interface ConnectorInfo {
  name: string;
  config: ConnectorConfig;
  tasks: ConnectorTaskId[];
  type: ConnectorType;
}

export type ConnectorState = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED' | 'RESTARTING' | 'STOPPED';

export interface InstanceState {
  state: ConnectorState | string;
  worker_id: string;
  /** Present only when non-empty (Connect's @JsonInclude(NON_EMPTY)). */
  trace?: string;
  version?: string;
}

export interface TaskState extends InstanceState {
  id: number;
  /** erpstream workers only: the task's latest progress report (snapshot rows, parked records…). */
  progress?: Record<string, unknown>;
}

export interface ConnectorStateInfo {
  name: string;
  connector: InstanceState;
  tasks: TaskState[];
  type: ConnectorType;
}

/** `GET /connectors?expand=status&expand=info`: one entry per connector. */
export interface ExpandedConnector {
  status?: ConnectorStateInfo;
  info?: ConnectorInfo;
}

export type TargetState = 'RUNNING' | 'PAUSED' | 'STOPPED';

export interface ConnectorOffset {
  partition: Record<string, unknown>;
  offset: Record<string, unknown> | null;
}

export interface ConnectorOffsets {
  offsets: ConnectorOffset[];
}

export interface PluginInfo {
  class: string;
  type: string;
  version?: string;
}

export interface ConfigKeyInfo {
  name: string;
  type: string;
  required: boolean;
  default_value: string | null;
  importance: string;
  documentation: string;
  group: string | null;
  /** Connect 4.x's name; 3.9 says `order`. */
  order_in_group?: number;
  order?: number;
  width: string;
  display_name: string;
  dependents: string[];
}

export interface ConfigValueInfo {
  name: string;
  value: string | null;
  recommended_values: string[];
  errors: string[];
  visible: boolean;
}

export interface ConfigInfo {
  definition: ConfigKeyInfo | null;
  value: ConfigValueInfo;
}

export interface ConfigInfos {
  name: string;
  error_count: number;
  groups: string[];
  configs: ConfigInfo[];
}

export interface LoggerLevel {
  level: string;
  last_modified: number | null;
}

export interface Message {
  message: string;
}

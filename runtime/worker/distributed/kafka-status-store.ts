import type { Logger } from '../../api/index.js';
import { MemoryStatusStore, type State, type Status, type StatusStore } from '../stores.js';
import type { KafkaBasedLog, LogRecord } from './kafka-log.js';

/** Connect's status value: `{"state", "trace", "worker_id", "generation"}`. */
export function statusValue(s: Status): string {
  return JSON.stringify({ state: s.state, trace: s.trace, worker_id: s.workerId, generation: s.generation });
}

function parseStatus(value: Buffer): Status | null {
  try {
    const v = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
    if (typeof v.state !== 'string') return null;
    return {
      state: v.state as State,
      trace: typeof v.trace === 'string' ? v.trace : null,
      workerId: String(v.worker_id ?? ''),
      generation: Number(v.generation ?? 0),
    };
  } catch {
    return null;
  }
}

/**
 * Connector and task statuses in the status topic (KafkaStatusBackingStore formats). A write updates this
 * worker's view at once and goes to the topic in the background; what other workers wrote arrives by
 * following the topic. A status carries the generation its instance started in; like Connect's "safe"
 * writes, neither a status read back nor one written here replaces one from a higher generation written by
 * another worker (the live owner's), so a fenced or revoked instance's late FAILED never hides it.
 */
export class KafkaStatusStore implements StatusStore {
  private readonly view = new MemoryStatusStore();
  private log: KafkaBasedLog | null = null;
  private highestGeneration = 0;
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly logger: Logger) {}

  attach(log: KafkaBasedLog): void {
    this.log = log;
  }

  /** The highest generation any status record carried: a group that starts over counts on from there. */
  maxGeneration(): number {
    return this.highestGeneration;
  }

  apply(record: LogRecord): void {
    const key = record.key ?? '';
    const topicMatch = /^status-topic-(.+):connector-(.+)$/.exec(key);
    if (topicMatch) {
      if (record.value === null) this.view.resetTopics(topicMatch[2]!);
      else this.view.addTopic(topicMatch[2]!, topicMatch[1]!);
      return;
    }
    const task = /^status-task-(.+)-(\d+)$/.exec(key);
    if (task) {
      const [connector, id] = [task[1]!, Number(task[2])];
      if (record.value === null) return this.removeTask(connector, id);
      const s = parseStatus(record.value);
      if (s) this.highestGeneration = Math.max(this.highestGeneration, s.generation);
      const prev = this.view.task(connector, id);
      if (s && this.accepts(prev, s)) this.view.putTask(connector, id, s);
      return;
    }
    if (key.startsWith('status-connector-')) {
      const connector = key.slice('status-connector-'.length);
      if (record.value === null) return this.view.remove(connector);
      const s = parseStatus(record.value);
      if (s) this.highestGeneration = Math.max(this.highestGeneration, s.generation);
      if (s && this.accepts(this.view.connector(connector), s)) this.view.putConnector(connector, s);
    }
  }

  private accepts(prev: Status | undefined, next: Status): boolean {
    return !prev || prev.workerId === next.workerId || next.generation >= prev.generation;
  }

  private removeTask(connector: string, id: number): void {
    const rest = this.view.tasks(connector);
    rest.delete(id);
    this.view.removeTasks(connector);
    for (const [t, s] of rest) this.view.putTask(connector, t, s);
  }

  private write(records: Array<{ key: string; value: string | null }>): void {
    const log = this.log;
    if (!log) return;
    this.writes = this.writes
      .then(() => log.send(records))
      .catch((e: unknown) => this.logger.error('Could not write status to the status topic', { error: e }));
  }

  /** Resolves when every status written so far reached the topic (used before shutdown). */
  flush(): Promise<void> {
    return this.writes;
  }

  putConnector(name: string, status: Status): void {
    if (!this.writable(this.view.connector(name), status, `connector ${name}`)) return;
    this.view.putConnector(name, status);
    this.write([{ key: `status-connector-${name}`, value: statusValue(status) }]);
  }
  putTask(connector: string, task: number, status: Status): void {
    if (!this.writable(this.view.task(connector, task), status, `task ${connector}-${task}`)) return;
    this.view.putTask(connector, task, status);
    this.write([{ key: `status-task-${connector}-${task}`, value: statusValue(status) }]);
  }

  /** Connect's putSafe: an instance of an older generation does not write over the newer owner's status. */
  private writable(prev: Status | undefined, next: Status, what: string): boolean {
    if (this.accepts(prev, next)) return true;
    this.logger.info(`Not writing ${next.state} for ${what}: ${prev!.workerId} owns it since a later generation`, {
      generation: next.generation,
      ownerGeneration: prev!.generation,
    });
    return false;
  }
  connector(name: string): Status | undefined {
    return this.view.connector(name);
  }
  task(connector: string, task: number): Status | undefined {
    return this.view.task(connector, task);
  }
  tasks(connector: string): Map<number, Status> {
    return this.view.tasks(connector);
  }
  removeTasks(connector: string): void {
    const ids = [...this.view.tasks(connector).keys()];
    this.view.removeTasks(connector);
    this.write(ids.map((t) => ({ key: `status-task-${connector}-${t}`, value: null })));
  }
  /** Only this worker's view: the leader tombstones statuses of deleted connectors (removeFromTopic). */
  remove(connector: string): void {
    this.view.remove(connector);
  }
  removeFromTopic(connector: string, taskCount: number): void {
    const ids = new Set([...this.view.tasks(connector).keys(), ...Array.from({ length: taskCount }, (_, i) => i)]);
    this.view.remove(connector);
    this.write([
      { key: `status-connector-${connector}`, value: null },
      ...[...ids].map((t) => ({ key: `status-task-${connector}-${t}`, value: null })),
    ]);
  }
  addTopic(connector: string, topic: string): void {
    if (this.view.topics(connector).includes(topic)) return;
    this.view.addTopic(connector, topic);
    this.write([
      {
        key: `status-topic-${topic}:connector-${connector}`,
        value: JSON.stringify({ topic: { name: topic, connector, task: 0, discoverTimestamp: Date.now() } }),
      },
    ]);
  }
  topics(connector: string): string[] {
    return this.view.topics(connector);
  }
  resetTopics(connector: string): void {
    const topics = this.view.topics(connector);
    this.view.resetTopics(connector);
    this.write(topics.map((t) => ({ key: `status-topic-${t}:connector-${connector}`, value: null })));
  }
}

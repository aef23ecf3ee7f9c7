import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson, ErpStreamError, type SourceOffset, type SourcePartition } from '../api/index.js';

// Worker callers keep importing it from here; it lives in the API so runtime/errors needs no worker import.
export { canonicalJson };

/**
 * Where the herder keeps state. Standalone mode uses the file/memory implementations below; a
 * distributed herder plugs in Kafka-topic-backed ones with the same interfaces (§4.2 record formats).
 */
export type TargetState = 'STARTED' | 'PAUSED' | 'STOPPED';

export interface StoredConnector {
  /** Raw config: `${provider:…}` placeholders intact. */
  config: Record<string, string>;
  targetState: TargetState;
  /** Reverse-transformed task configs; empty when stopped or not yet generated. */
  taskConfigs: Array<Record<string, string>>;
}

export interface ConfigStore {
  load(): Promise<Map<string, StoredConnector>>;
  putConnector(name: string, config: Record<string, string>, targetState?: TargetState): Promise<void>;
  putTargetState(name: string, state: TargetState): Promise<void>;
  putTaskConfigs(name: string, configs: Array<Record<string, string>>): Promise<void>;
  removeConnector(name: string): Promise<void>;
}

export interface OffsetEntry {
  partition: SourcePartition;
  offset: SourceOffset | null;
}

export interface OffsetStore {
  start(): Promise<void>;
  get(connector: string, partition: SourcePartition): Promise<SourceOffset | null>;
  /** Writes atomically (all or nothing); a null offset deletes the partition (a tombstone). */
  set(connector: string, entries: readonly OffsetEntry[]): Promise<void>;
  /** Every partition this connector has an offset for. */
  list(connector: string): Promise<OffsetEntry[]>;
}

export type State = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED' | 'RESTARTING' | 'STOPPED';

export interface Status {
  state: State;
  trace: string | null;
  workerId: string;
  generation: number;
}

export interface StatusStore {
  putConnector(name: string, status: Status): void;
  putTask(connector: string, task: number, status: Status): void;
  connector(name: string): Status | undefined;
  task(connector: string, task: number): Status | undefined;
  tasks(connector: string): Map<number, Status>;
  removeTasks(connector: string): void;
  remove(connector: string): void;
  /** Topics a connector has used (KIP-558). */
  addTopic(connector: string, topic: string): void;
  topics(connector: string): string[];
  resetTopics(connector: string): void;
}

export function offsetKey(connector: string, partition: SourcePartition): string {
  return canonicalJson([connector, partition]);
}

/** Writes via a temp file and rename, so a crash never leaves a half-written file. */
async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, file);
}

async function readJsonFile<T>(file: string, empty: T): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return empty;
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new ErpStreamError(
      'ERPSTREAM_STATE_FILE',
      `State file ${file} is not valid JSON (${(e as Error).message}); fix or move it away`,
    );
  }
}

/** Serialises async writes so two flushes never interleave on one file. */
class WriteQueue {
  private tail: Promise<void> = Promise.resolve();
  run(task: () => Promise<void>): Promise<void> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => {});
    return next;
  }
}

/**
 * Standalone offsets in a JSON file: `{ "<canonical key>": <offset> }`, where the key is Connect's
 * `["<connector>",{partition}]`. (Connect's own standalone file is Java-serialized; this one is readable.)
 */
export class FileOffsetStore implements OffsetStore {
  private data = new Map<string, SourceOffset>();
  private readonly queue = new WriteQueue();
  /** With a null file the offsets live in memory only (tests, ephemeral workers). */
  constructor(private readonly file: string | null) {}

  async start(): Promise<void> {
    if (this.file === null) return;
    const raw = await readJsonFile<Record<string, SourceOffset>>(this.file, {});
    this.data = new Map(Object.entries(raw));
  }

  async get(connector: string, partition: SourcePartition): Promise<SourceOffset | null> {
    return this.data.get(offsetKey(connector, partition)) ?? null;
  }

  async set(connector: string, entries: readonly OffsetEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const file = this.file;
    // Built inside the queue: two tasks flushing at once must not each start from the same old map.
    await this.queue.run(async () => {
      const next = new Map(this.data);
      for (const e of entries) {
        const key = offsetKey(connector, e.partition);
        if (e.offset === null) next.delete(key);
        else next.set(key, JSON.parse(canonicalJson(e.offset)) as SourceOffset);
      }
      if (file !== null) await writeAtomically(file, JSON.stringify(Object.fromEntries(next), null, 1));
      this.data = next;
    });
  }

  async list(connector: string): Promise<OffsetEntry[]> {
    const out: OffsetEntry[] = [];
    for (const [key, offset] of this.data) {
      const parsed = JSON.parse(key) as unknown;
      // Connect skips keys that are not [string, object] (OffsetUtils.processPartitionKey).
      if (!Array.isArray(parsed) || parsed.length !== 2 || parsed[0] !== connector) continue;
      if (parsed[1] === null || typeof parsed[1] !== 'object') continue;
      out.push({ partition: parsed[1] as SourcePartition, offset });
    }
    return out;
  }
}

/** Connector configs, target states and task configs in one JSON file, so a restart brings them back. */
export class FileConfigStore implements ConfigStore {
  private state = new Map<string, StoredConnector>();
  private readonly queue = new WriteQueue();
  constructor(private readonly file: string | null) {}

  async load(): Promise<Map<string, StoredConnector>> {
    if (this.file) {
      const raw = await readJsonFile<{ connectors?: Record<string, StoredConnector> }>(this.file, {});
      this.state = new Map(Object.entries(raw.connectors ?? {}));
    }
    return new Map([...this.state].map(([k, v]) => [k, structuredClone(v)]));
  }

  private async save(): Promise<void> {
    const file = this.file;
    if (!file) return;
    const text = JSON.stringify({ version: 1, connectors: Object.fromEntries(this.state) }, null, 1);
    await this.queue.run(() => writeAtomically(file, text));
  }

  async putConnector(name: string, config: Record<string, string>, targetState?: TargetState): Promise<void> {
    const prev = this.state.get(name);
    this.state.set(name, {
      config: { ...config },
      targetState: targetState ?? prev?.targetState ?? 'STARTED',
      taskConfigs: prev?.taskConfigs ?? [],
    });
    await this.save();
  }

  async putTargetState(name: string, state: TargetState): Promise<void> {
    const prev = this.state.get(name);
    if (!prev) return;
    prev.targetState = state;
    await this.save();
  }

  async putTaskConfigs(name: string, configs: Array<Record<string, string>>): Promise<void> {
    const prev = this.state.get(name);
    if (!prev) return;
    prev.taskConfigs = configs.map((c) => ({ ...c }));
    await this.save();
  }

  async removeConnector(name: string): Promise<void> {
    this.state.delete(name);
    await this.save();
  }
}

export class MemoryStatusStore implements StatusStore {
  private readonly connectors = new Map<string, Status>();
  private readonly taskStatuses = new Map<string, Map<number, Status>>();
  private readonly activeTopics = new Map<string, Set<string>>();

  putConnector(name: string, status: Status): void {
    this.connectors.set(name, { ...status });
  }
  putTask(connector: string, task: number, status: Status): void {
    const m = this.taskStatuses.get(connector) ?? new Map<number, Status>();
    this.taskStatuses.set(connector, m);
    m.set(task, { ...status });
  }
  connector(name: string): Status | undefined {
    return this.connectors.get(name);
  }
  task(connector: string, task: number): Status | undefined {
    return this.taskStatuses.get(connector)?.get(task);
  }
  tasks(connector: string): Map<number, Status> {
    return new Map(this.taskStatuses.get(connector) ?? []);
  }
  removeTasks(connector: string): void {
    this.taskStatuses.delete(connector);
  }
  remove(connector: string): void {
    this.connectors.delete(connector);
    this.taskStatuses.delete(connector);
    this.activeTopics.delete(connector);
  }
  addTopic(connector: string, topic: string): void {
    const s = this.activeTopics.get(connector) ?? new Set<string>();
    this.activeTopics.set(connector, s);
    s.add(topic);
  }
  topics(connector: string): string[] {
    return [...(this.activeTopics.get(connector) ?? [])].sort();
  }
  resetTopics(connector: string): void {
    this.activeTopics.delete(connector);
  }
}

// Start-up scaffolding shared by the integration tests: worker processes (standalone, a distributed group), REST
// calls, waiting for a condition or a connector state, unique names. One copy here instead of one per test file.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type WorkerProcess, startWorkerProcess } from './erpstream-cli.js';

export type { WorkerProcess };

/** A short unique suffix for topic, group, connector and table names, so runs and helpers never collide. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** `prefix-<unique suffix>`: a topic, connector or group name nobody else uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${uniqueSuffix()}`;
}

/** A fresh temporary directory for a test's files (worker.properties, offsets, inputs). */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
}

/**
 * Polls `check` until it answers something truthy and returns that. An error thrown by `check` counts as "not
 * yet" (a worker still starting refuses connections) and is named in the timeout error; `abort` gives up early
 * with its reason (e.g. a process that died).
 */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs: number,
  what: string,
  options: { intervalMs?: number; abort?: () => string | null } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const reason = options.abort?.() ?? null;
    if (reason !== null) throw new Error(`gave up waiting for ${what}: ${reason}`);
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}

/** A REST call to a worker; the body parsed as JSON (null when empty). */
export async function rest<T = unknown>(
  url: string,
  method: string,
  pathname: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as T };
}

/**
 * A write to a distributed worker, sent again while it answers 409 (not in its group yet, or mid-rebalance: Connect
 * refuses writes then, as here) or 500 naming a rebalance (Connect's RebalanceNeededException when a member joined a
 * moment before); the first other answer.
 */
export function restWhenJoined<T = unknown>(
  url: string,
  method: string,
  pathname: string,
  body: unknown,
  o: { timeoutMs: number; what: string },
): Promise<{ status: number; body: T }> {
  return waitFor(
    async () => {
      const r = await rest<T>(url, method, pathname, body);
      return r.status === 409 || duringRebalance(r.status, r.body) ? null : r;
    },
    o.timeoutMs,
    o.what,
  );
}

/**
 * Whether an answer is a distributed worker refusing a request because its group is (about to be) rebalancing: 409
 * ("rebalance in progress") or 500 (RebalanceNeededException, "a rebalance is expected"). A 409 that names no
 * rebalance (a connector that already exists) is an answer.
 */
export function duringRebalance(status: number, body: unknown): boolean {
  if (status !== 409 && status !== 500) return false;
  return /rebalance/i.test(typeof body === 'string' ? body : JSON.stringify(body ?? ''));
}

export type ConnectorState = 'RUNNING' | 'PAUSED' | 'STOPPED' | 'FAILED' | 'UNASSIGNED' | 'RESTARTING';

export interface ConnectorStatus {
  name: string;
  connector: { state: string; trace?: string };
  tasks: Array<{ id: number; state: string; trace?: string }>;
}

/**
 * Waits until a connector and every one of its tasks (at least one) are in `state`; returns the status. A FAILED
 * task while waiting for another state ends the wait at once with its trace.
 */
export function waitForConnectorState(
  url: string,
  connector: string,
  state: ConnectorState,
  timeoutMs = 60_000,
): Promise<ConnectorStatus> {
  let failed: string | null = null;
  return waitFor(
    async () => {
      const r = await rest<ConnectorStatus>(url, 'GET', `/connectors/${encodeURIComponent(connector)}/status`);
      if (r.status !== 200) return null;
      const s = r.body;
      const bad = state !== 'FAILED' ? s.tasks.find((t) => t.state === 'FAILED') : undefined;
      if (bad) failed = bad.trace ?? 'task FAILED';
      return s.connector.state === state && s.tasks.length > 0 && s.tasks.every((t) => t.state === state) ? s : null;
    },
    timeoutMs,
    `connector ${connector} ${state}`,
    { abort: () => failed },
  );
}

/** SIGTERM and wait; resolves with the exit code (null when it had to be killed after 30 s). */
export async function stopWorker(w: WorkerProcess): Promise<number | null> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return w.proc.exitCode;
  const exited = new Promise<number | null>((r) => w.proc.once('exit', (code) => r(code)));
  w.proc.kill('SIGTERM');
  const timer = setTimeout(() => w.proc.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Sends `signal` (a crash by default) and waits for the process to end; nothing when it has ended already. */
export async function killWorker(w: WorkerProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => w.proc.once('exit', () => r()));
  w.proc.kill(signal);
  await exited;
}

function propsText(props: Record<string, string>): string {
  return Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

export async function writeProps(file: string, text: string): Promise<string> {
  await writeFile(file, text);
  return file;
}

/** Settings of a standalone test worker: a free port on 127.0.0.1, offsets in `dir`, quick offset flushes. */
export function standaloneProps(brokers: string, dir: string, extra: Record<string, string> = {}): string {
  return propsText({
    'bootstrap.servers': brokers,
    listeners: 'http://127.0.0.1:0',
    'offset.storage.file.filename': path.join(dir, 'offsets.json'),
    'offset.flush.interval.ms': '500',
    ...extra,
  });
}

/**
 * `erpstream worker start <dir>/worker.properties --standalone [connector files]` in its own process, with
 * standaloneProps; resolves once it serves REST.
 */
export async function startStandaloneWorker(options: {
  brokers: string;
  dir: string;
  extra?: Record<string, string>;
  connectorFiles?: readonly string[];
}): Promise<WorkerProcess> {
  const props = await writeProps(
    path.join(options.dir, 'worker.properties'),
    standaloneProps(options.brokers, options.dir, options.extra),
  );
  return startWorkerProcess([props, ...(options.connectorFiles ?? []), '--standalone'], 60_000);
}

/** Worker settings for a test cluster: its own group and internal topics, short timeouts. */
export function clusterProps(brokers: string, suffix: string, extra: Record<string, string> = {}): string {
  return propsText({
    'bootstrap.servers': brokers,
    listeners: 'http://127.0.0.1:0',
    'group.id': `it-dist-${suffix}`,
    'config.storage.topic': `it-dist-${suffix}-configs`,
    'offset.storage.topic': `it-dist-${suffix}-offsets`,
    'status.storage.topic': `it-dist-${suffix}-status`,
    'offset.storage.partitions': '3',
    'status.storage.partitions': '2',
    'config.storage.replication.factor': '1',
    'offset.storage.replication.factor': '1',
    'status.storage.replication.factor': '1',
    'session.timeout.ms': '6000',
    'heartbeat.interval.ms': '1000',
    'rebalance.timeout.ms': '10000',
    'offset.flush.interval.ms': '500',
    'task.shutdown.graceful.timeout.ms': '3000',
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'false',
    ...extra,
  });
}

/** `erpstream worker start <props>` in its own process (distributed, since the props set group.id). */
export function startWorker(propsFile: string): Promise<WorkerProcess> {
  return startWorkerProcess([propsFile]);
}

interface ClusterOptions {
  brokers: string;
  /** Names the group and its internal topics (clusterProps). */
  suffix: string;
  extra?: Record<string, string>;
  /** Where `worker.properties` goes; a new temporary directory when not given. */
  dir?: string;
}

/** Writes the cluster's `worker.properties` (clusterProps) and returns its path, for starting workers later. */
export async function writeClusterProps(options: ClusterOptions): Promise<string> {
  const dir = options.dir ?? (await tempDir('erpstream-it-dist'));
  return writeProps(path.join(dir, 'worker.properties'), clusterProps(options.brokers, options.suffix, options.extra));
}

/**
 * `count` distributed workers of one new group (writeClusterProps). `oneByOne` starts each after the previous
 * serves REST (the first becomes the leader); otherwise they start together. `props` starts more (or again) later.
 */
export async function startDistributedWorkers(
  options: ClusterOptions & { count: number; oneByOne?: boolean },
): Promise<{ props: string; workers: WorkerProcess[] }> {
  const props = await writeClusterProps(options);
  if (!options.oneByOne) {
    return { props, workers: await Promise.all(Array.from({ length: options.count }, () => startWorker(props))) };
  }
  const workers: WorkerProcess[] = [];
  for (let i = 0; i < options.count; i++) workers.push(await startWorker(props));
  return { props, workers };
}

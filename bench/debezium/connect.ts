import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BenchSetupError } from '../support.js';
import { sleep, waitUntil } from './process.js';

/**
 * A Kafka Connect worker of the bench's own: the stack's jars and plugins, its own group and internal topics on a
 * free port. Its own JVM, because the CPU figure is the JVM's CPU delta: the stack's shared Connect runs other
 * people's connectors too. Same heap and GC flags as `scripts/stack` gives the stack's Connect.
 */
export interface ConnectWorker {
  readonly url: string;
  readonly pid: number;
  readonly log: string;
  stop(): Promise<void>;
}

export const PG_SOURCE_CLASS = 'io.debezium.connector.postgresql.PostgresConnector';
export const JDBC_SINK_CLASS = 'io.debezium.connector.jdbc.JdbcSinkConnector';

const JVM_FLAGS = [
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
];

const LOG4J2 = `status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
logger.isolation.name = org.apache.kafka.connect.runtime.isolation
logger.isolation.level = WARN
`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** The stack's Connect jars and plugin path (`scripts/stack up --with-connect` fetches both). */
export function stackConnectPaths(stackDir: string): { lib: string; plugins: string } {
  const lib = path.join(stackDir, 'lib', 'connect');
  const plugins = path.join(stackDir, 'connect-plugins');
  const hint = 'run `scripts/stack up --with-connect` (it fetches Connect and the Debezium plugins)';
  if (!existsSync(lib)) throw new BenchSetupError(`no Kafka Connect jars in ${lib}: ${hint}`);
  for (const plugin of ['debezium-connector-postgres', 'debezium-connector-jdbc']) {
    if (!existsSync(path.join(plugins, plugin)))
      throw new BenchSetupError(`no ${plugin} in ${plugins}: ${hint} with this version of scripts/stack`);
  }
  return { lib, plugins };
}

export async function startConnect(options: {
  stackDir: string;
  brokers: string;
  suffix: string;
  heap: string;
}): Promise<ConnectWorker> {
  const { lib, plugins } = stackConnectPaths(options.stackDir);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-bench-connect-'));
  const port = await freePort();
  const id = `bench-dbz-${options.suffix}`;
  const props = {
    'bootstrap.servers': options.brokers,
    'group.id': id,
    'config.storage.topic': `${id}-configs`,
    'offset.storage.topic': `${id}-offsets`,
    'status.storage.topic': `${id}-status`,
    'config.storage.replication.factor': '1',
    'offset.storage.replication.factor': '1',
    'status.storage.replication.factor': '1',
    'offset.storage.partitions': '1',
    'status.storage.partitions': '1',
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    listeners: `http://127.0.0.1:${port}`,
    'rest.advertised.host.name': '127.0.0.1',
    'rest.advertised.port': String(port),
    'plugin.path': plugins,
    // the stack's Connect flushes offsets every second too
    'offset.flush.interval.ms': '1000',
    'connector.client.config.override.policy': 'All',
  };
  await writeFile(
    path.join(dir, 'worker.properties'),
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  await writeFile(path.join(dir, 'log4j2.properties'), LOG4J2);
  const log = path.join(dir, 'connect.log');
  const out = openSync(log, 'a');
  const proc: ChildProcess = spawn(
    'java',
    [
      `-Xms128m`,
      `-Xmx${options.heap}`,
      ...JVM_FLAGS,
      `-Dlog4j2.configurationFile=${path.join(dir, 'log4j2.properties')}`,
      '-cp',
      `${lib}/*`,
      'org.apache.kafka.connect.cli.ConnectDistributed',
      path.join(dir, 'worker.properties'),
    ],
    { stdio: ['ignore', out, out] },
  );
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitUntil(
      async () => {
        if (proc.exitCode !== null)
          throw new BenchSetupError(`Kafka Connect exited with ${proc.exitCode} (log: ${log})`);
        const r = await fetch(`${url}/connector-plugins`);
        if (!r.ok) return false;
        const classes = ((await r.json()) as Array<{ class: string }>).map((p) => p.class);
        return classes.includes(PG_SOURCE_CLASS) && classes.includes(JDBC_SINK_CLASS);
      },
      180_000,
      `Kafka Connect on ${url} listing the Debezium plugins (log: ${log})`,
      500,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, pid: proc.pid!, log, stop };
}

export interface RestAnswer<T> {
  status: number;
  body: T;
}

export async function rest<T = unknown>(url: string, method: string, pathname: string, body?: unknown) {
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: kept as text for the error message
  }
  return { status: res.status, body: parsed as T } satisfies RestAnswer<T>;
}

interface Status {
  connector: { state: string };
  tasks: Array<{ id: number; state: string; trace?: string }>;
}

/**
 * Both workers speak Connect's REST API (`erpstream` matches it), so one set of calls drives either side.
 */
export class ConnectorHandle {
  constructor(
    readonly worker: string,
    readonly name: string,
  ) {}

  async create(config: Record<string, string>): Promise<void> {
    const r = await rest(this.worker, 'PUT', `/connectors/${this.name}/config`, config);
    if (r.status >= 300)
      throw new Error(`creating ${this.name} on ${this.worker}: ${r.status} ${JSON.stringify(r.body)}`);
  }

  async status(): Promise<Status | null> {
    const r = await rest<Status>(this.worker, 'GET', `/connectors/${this.name}/status`);
    return r.status === 200 ? r.body : null;
  }

  /**
   * Waits until the connector and its tasks are in `state`; a FAILED task ends the wait with its trace. Five minutes:
   * Debezium's task creates its replication slot on start, and PostgreSQL makes that wait for every transaction
   * open at the time (another session's long load on the same server held it past two minutes).
   */
  async waitFor(state: 'RUNNING' | 'STOPPED' | 'PAUSED', timeoutMs = 300_000): Promise<void> {
    let failed: { id: number; trace?: string } | undefined;
    await waitUntil(
      async () => {
        const s = await this.status();
        if (!s) return false;
        // a FAILED task ends the wait at once, with its trace
        failed = s.tasks.find((t) => t.state === 'FAILED');
        if (failed) return true;
        if (s.connector.state !== state) return false;
        return state === 'STOPPED'
          ? s.tasks.length === 0
          : s.tasks.length > 0 && s.tasks.every((t) => t.state === state);
      },
      timeoutMs,
      `${this.name} to be ${state}`,
      100,
    );
    if (failed) throw new Error(`${this.name} task ${failed.id} FAILED: ${failed.trace?.slice(0, 3000)}`);
  }

  async stop(): Promise<void> {
    const r = await rest(this.worker, 'PUT', `/connectors/${this.name}/stop`);
    if (r.status >= 300) throw new Error(`stopping ${this.name}: ${r.status} ${JSON.stringify(r.body)}`);
    await this.waitFor('STOPPED');
  }

  async resume(): Promise<void> {
    const r = await rest(this.worker, 'PUT', `/connectors/${this.name}/resume`);
    if (r.status >= 300) throw new Error(`resuming ${this.name}: ${r.status} ${JSON.stringify(r.body)}`);
  }

  async delete(): Promise<void> {
    await rest(this.worker, 'DELETE', `/connectors/${this.name}`).catch(() => {});
    await sleep(200);
  }
}

/** The PostgreSQL JDBC URL Debezium's sink wants, from the stack's `postgresql://user:pw@host:port/db`. */
export function pgParts(pgUrl: string): { host: string; port: string; user: string; password: string; db: string } {
  const u = new URL(pgUrl);
  return {
    host: u.hostname,
    port: u.port || '5432',
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    db: u.pathname.replace(/^\//, ''),
  };
}

/** Which Debezium plugin versions the stack unpacked (for the report). */
export function pluginVersions(stackDir: string): Record<string, string> {
  const plugins = path.join(stackDir, 'connect-plugins');
  const out: Record<string, string> = {};
  for (const name of ['debezium-connector-postgres', 'debezium-connector-jdbc']) {
    const jar = readdirSync(path.join(plugins, name)).find((f) => f.startsWith(`${name}-`) && f.endsWith('.jar'));
    out[name] = jar?.slice(name.length + 1, -4) ?? 'unknown';
  }
  return out;
}

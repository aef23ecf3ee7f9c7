// Private Kafka, schema registry and PostgreSQL for fault tests: they are killed and restarted on purpose, so they
// must never be the shared stack. Started from the jars and packages `scripts/stack up` cached, on free ports.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { createKafka } from '../../../runtime/kafka/index.js';
import { type WorkerProcess, repoRoot } from '../../support/erpstream-cli.js';

const run = promisify(execFile);

/** The stack dir whose cached jars we start from: $ERPSTREAM_STACK_DIR (scripts/stack env sets it), else <repo>/.stack. */
export function stackDir(): string {
  const dir = process.env.ERPSTREAM_STACK_DIR?.trim() || path.join(repoRoot, '.stack');
  if (!existsSync(path.join(dir, 'lib', 'broker'))) {
    throw new Error(
      `No cached Kafka jars under ${dir}/lib/broker: run scripts/stack up once (and eval "$(scripts/stack env)", which sets ERPSTREAM_STACK_DIR)`,
    );
  }
  return dir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function exited(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => p.once('exit', () => r()));
}

/** A service we can kill and start again with its data kept. */
export interface PrivateService {
  readonly url: string;
  /** SIGKILL (the process gets no chance to clean up), resolved once it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it answers. */
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  destroy(): Promise<void>;
}

/** A JVM started (output appended to logFile) and waited for with `ready`, or SIGKILLed. */
function javaProcess(
  args: string[],
  logFile: string,
  ready: () => Promise<void>,
): { start(): Promise<void>; kill(): Promise<void> } {
  let proc: ChildProcess | null = null;
  return {
    start: async () => {
      const out = openSync(logFile, 'a');
      proc = spawn('java', args, { stdio: ['ignore', out, out] });
      closeSync(out);
      await ready();
    },
    kill: async () => {
      const p = proc;
      if (!p) return;
      p.kill('SIGKILL');
      await exited(p);
      proc = null;
    },
  };
}

/** A single-node KRaft broker from the cached jars; `extra` adds or overrides broker properties. */
export async function privateKafka(dir: string, extra: Record<string, string> = {}): Promise<PrivateService> {
  const lib = path.join(stackDir(), 'lib', 'broker', '*');
  const [port, controller] = [await freePort(), await freePort()];
  const data = path.join(dir, 'kafka-data');
  const props = path.join(dir, 'kafka.properties');
  const log4j = path.join(dir, 'log4j.properties');
  await writeFile(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controller}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'inter.broker.listener.name=PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${data}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=3',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=3',
      'group.initial.rebalance.delay.ms=0',
      'num.network.threads=2',
      'num.io.threads=2',
      ...Object.entries(extra).map(([k, v]) => `${k}=${v}`),
    ].join('\n'),
  );
  await writeFile(
    log4j,
    'log4j.rootLogger=WARN, stdout\nlog4j.appender.stdout=org.apache.log4j.ConsoleAppender\nlog4j.appender.stdout.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n',
  );
  // KRaft cluster ids are 16 random bytes in URL-safe base64 without padding. One in 64 starts with '-', which
  // the storage tool's argument parser takes for an option (Kafka's own random-uuid never makes such an id).
  const clusterId = `A${randomBytes(16).toString('base64url').slice(1)}`;
  await run('java', [
    '-cp',
    lib,
    `-Dlog4j.configuration=file:${log4j}`,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    props,
  ]);
  const url = `127.0.0.1:${port}`;
  const logFile = path.join(dir, 'kafka.log');
  const { start, kill } = javaProcess(
    [
      '-Xms128m',
      '-Xmx384m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-cp',
      lib,
      `-Dlog4j.configuration=file:${log4j}`,
      'kafka.Kafka',
      props,
    ],
    logFile,
    () =>
      until(
        async () => {
          const admin = createKafka({
            brokers: url,
            clientId: 'fault-probe',
            logLevel: 'nothing',
            retry: { retries: 0 },
          }).admin();
          try {
            await admin.connect();
            const c = await admin.describeCluster();
            return c.brokers.length > 0;
          } finally {
            await admin.disconnect().catch(() => {});
          }
        },
        120_000,
        `private Kafka on ${url} (log: ${logFile})`,
      ),
  );
  await start();
  return { url, start, kill, destroy: async () => kill() };
}

/** Apicurio Registry from the cached jar, schemas kept in an H2 file (so ids survive a restart, as in production). */
export async function privateRegistry(dir: string): Promise<PrivateService> {
  const apicurio = path.join(stackDir(), 'apicurio');
  const jar = findJar(apicurio);
  if (!jar) throw new Error(`No Apicurio jar under ${apicurio}: run scripts/stack up once`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/apis/ccompat/v7`;
  const logFile = path.join(dir, 'registry.log');
  const { start, kill } = javaProcess(
    [
      '-Xms64m',
      '-Xmx320m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${port}`,
      `-Dapicurio.datasource.url=jdbc:h2:file:${path.join(dir, 'registry-data', 'registry')};DB_CLOSE_ON_EXIT=FALSE`,
      '-Dquarkus.log.console.color=false',
      '-jar',
      jar,
    ],
    logFile,
    () =>
      until(async () => (await fetch(`${base}/subjects`)).ok, 180_000, `private registry on ${base} (log: ${logFile})`),
  );
  await start();
  return { url: base, start, kill, destroy: async () => kill() };
}

function findJar(dir: string): string | null {
  if (!existsSync(dir)) return null;
  for (const version of readdirSync(dir)) {
    const vdir = path.join(dir, version);
    for (const f of readdirSync(vdir)) {
      if (f.endsWith('-runner.jar')) return path.join(vdir, f);
      if (f === 'quarkus-app' && existsSync(path.join(vdir, f, 'quarkus-run.jar')))
        return path.join(vdir, f, 'quarkus-run.jar');
    }
  }
  return null;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** PostgreSQL 15 from Debian's packages in a fresh data dir (as the postgres user when we are root). */
export async function privatePostgres(): Promise<PrivateService & { restart(): Promise<void> }> {
  if (!existsSync(path.join(PG_BIN, 'initdb')))
    throw new Error(`PostgreSQL 15 is not installed (${PG_BIN}): scripts/stack up installs it`);
  const root = process.getuid?.() === 0;
  // The postgres user must reach the data dir: not under /root.
  const dir = await mkdtemp(path.join(root ? '/var/tmp' : os.tmpdir(), 'erpstream-fault-pg-'));
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  await mkdir(sock);
  const as = async (cmd: string, args: string[]) => {
    if (!root) return run(cmd, args);
    return run('runuser', ['-u', 'postgres', '--', cmd, ...args]);
  };
  if (root) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: g } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(g.trim()));
    await chown(sock, Number(stdout.trim()), Number(g.trim()));
  }
  await chmod(dir, 0o755);
  const pwfile = path.join(dir, 'pw');
  await writeFile(pwfile, 'erpstream\n', { mode: 0o644 });
  await as(path.join(PG_BIN, 'initdb'), [
    '-D',
    data,
    '-U',
    'erpstream',
    `--pwfile=${pwfile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
  ]);
  await rm(pwfile);
  const port = await freePort();
  const url = `postgresql://erpstream:erpstream@127.0.0.1:${port}/postgres`;
  const opts = `-p ${port} -c listen_addresses=127.0.0.1 -k ${sock} -c fsync=off -c max_connections=60 -c shared_buffers=32MB`;
  const ready = () =>
    until(
      async () => {
        const c = new pg.Client({ connectionString: url });
        try {
          await c.connect();
          await c.query('SELECT 1');
          return true;
        } finally {
          await c.end().catch(() => {});
        }
      },
      60_000,
      `private PostgreSQL on ${port}`,
    );
  const ctl = (...args: string[]) =>
    as(path.join(PG_BIN, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'pg.log'), '-o', opts, '-w', '-s', ...args]);
  const start = async () => {
    await ctl('start');
    await ready();
  };
  await start();
  return {
    url,
    start,
    kill: async () => {
      await ctl('stop', '-m', 'immediate');
    },
    restart: async () => {
      await ctl('restart', '-m', 'fast');
      await ready();
    },
    destroy: async () => {
      await ctl('stop', '-m', 'immediate').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Ends a worker process a fault test started: its log to ERPSTREAM_FAULT_LOG=<file> first when set (to see what its
 * tasks went through), then SIGKILL, resolved once it is gone.
 */
export async function endWorkerProcess(worker: WorkerProcess | null): Promise<void> {
  if (!worker) return;
  if (process.env.ERPSTREAM_FAULT_LOG) await writeFile(process.env.ERPSTREAM_FAULT_LOG, worker.stderr.join('\n'));
  if (worker.proc.exitCode !== null) return;
  const gone = new Promise((r) => worker.proc.once('exit', r));
  worker.proc.kill('SIGKILL');
  await gone;
}

/** A JSON REST call to a worker: its status and parsed body (null when it has none). */
export function workerRest(worker: () => WorkerProcess) {
  return async (method: string, p: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
    const r = await fetch(`${worker().url}${p}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, body: (await r.json().catch(() => null)) as unknown };
  };
}

/**
 * Creates a connector on a distributed worker, asking again on a 409 (a rebalance in progress) until it exists (a
 * retried create may find it there already).
 */
export async function createConnector(
  rest: ReturnType<typeof workerRest>,
  name: string,
  config: Record<string, string>,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (
    (await rest('POST', '/connectors', { name, config })).status !== 201 &&
    (await rest('GET', `/connectors/${name}`)).status !== 200
  ) {
    if (Date.now() > deadline) throw new Error(`connector ${name} not created within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

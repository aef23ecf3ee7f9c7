import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Admin, type Kafka, createKafka, ensureTopics } from '../../runtime/kafka/index.js';
import { builtinRegistry } from '../../bundle/builtin.js';
import { loadWorkerConfig } from '../../runtime/worker/config.js';
import { type RunningWorker, startStandaloneWorker } from '../../runtime/launch/standalone.js';
import { ConnectClient } from '../connect/client.js';
import { CliError, ExitCode } from '../errors.js';
import { clusterConfigs, clusterConnectors, executePlan } from '../integrations/cluster.js';
import { loadDocuments } from '../../integrations/documents.js';
import { type GeneratedConnector, expandDocuments } from '../../integrations/expand.js';
import { computePlan } from '../integrations/plan.js';
import { validateExpansion } from '../../integrations/validate.js';
import { formatProblem } from '../../integrations/problems.js';
import { type ErpDatabase, createErpDatabase, withoutCredentials } from './erp/database.js';
import {
  ERP_CONNECTION_FILE,
  erpConnectionValues,
  keysShowingSecrets,
  withFileReferences,
  writeErpConnectionFile,
} from './erp-connection.js';
import { CAPTURED_TABLES, DEMO_CUSTOMERS, ERP_SCHEMA } from './erp/schema.js';
import { type Ledger, checkLedger, emptyLedger, runSimulator } from './erp/simulator.js';
import { type DemoProgress, type ProgressLine, RateMeter, formatDemoProgress } from './progress.js';
import { type DemoSummary, summarize } from './summary.js';
import { DeliveryCollector, type SinkTarget, namespaceConnectors, sinkLag, sinkTargets, sumMetric } from './topics.js';

/**
 * `erpstream demo`, start to finish: the local stack (Kafka + schema registry + PostgreSQL) if it is not
 * running, a fresh ERP database, a worker in this process, the example integrations for two customers, an
 * operations team writing for the set duration, and the proof that every origin row reached its customer.
 * Everything the run creates carries the run id, and is removed at the end unless --keep.
 */

/** The checkout this module runs from: cli/demo/ under tsx, dist/cli/demo/ when built. */
function repoRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../..'), path.resolve(here, '../../..')];
  return candidates.find((dir) => existsSync(path.join(dir, 'examples', 'integrations'))) ?? candidates[0]!;
}

const REPO_ROOT = repoRoot();
export const STACK_SCRIPT = path.join(REPO_ROOT, 'scripts', 'stack');
export const EXAMPLE_INTEGRATIONS = path.join(REPO_ROOT, 'examples', 'integrations');

export interface DemoOptions {
  durationMs: number;
  /** PostgreSQL server for the ERP (a database is created on it); default PG_URL from the stack. */
  pgUrl?: string | undefined;
  keep: boolean;
  /** How the worker writes records: Avro through the registry (default) or JSON with schemas. */
  format: 'avro' | 'json';
  integrationsDir?: string;
  /** Operations per second of the simulated team. */
  rate?: number;
  /** After the operations stop, how long to wait for the last rows to be delivered. */
  settleTimeoutMs?: number;
  env: NodeJS.ProcessEnv;
  /** Narrative lines (what the demo is doing). */
  log: (line: string) => void;
  progress: ProgressLine;
  signal?: AbortSignal;
  stackScript?: string;
}

export interface DemoResult {
  runId: string;
  summary: DemoSummary | null;
  ledger: Ledger | null;
  topics: string[];
  interrupted: boolean;
  /** The last progress snapshot, and the most rows parked at once (proof the races happened). */
  final: DemoProgress | null;
  peakParked: number;
  /** The worker's operations console while the demo runs. */
  consoleUrl?: string;
}

interface StackEnv {
  brokers: string;
  registryUrl: string;
  pgUrl: string;
}

async function stackEnvFromScript(script: string): Promise<Record<string, string>> {
  const out = await runScript(script, ['env'], () => undefined);
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
  }
  return env;
}

function runScript(script: string, args: string[], onLine: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(script, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let buffered = '';
    const lines = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const p of parts) if (p.trim()) onLine(p);
    };
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      lines(c);
    });
    child.stderr.on('data', lines);
    child.on('error', reject);
    child.on('close', (code) => {
      if (buffered.trim()) onLine(buffered);
      if (code === 0) resolve(stdout);
      else reject(demoFailure(`${path.basename(script)} ${args.join(' ')} exited with ${code}`));
    });
  });
}

async function kafkaReachable(brokers: string): Promise<boolean> {
  const kafka = createKafka({
    brokers,
    clientId: 'erpstream-demo-probe',
    logLevel: 'nothing',
    connectionTimeoutMs: 2000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function registryReachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url.replace(/\/$/, '')}/subjects`, { signal: AbortSignal.timeout(3000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Finds Kafka, the registry and PostgreSQL; starts the local stack when they do not answer. */
async function ensureStack(o: DemoOptions): Promise<{ env: StackEnv; started: boolean }> {
  const script = o.stackScript ?? STACK_SCRIPT;
  const haveScript = existsSync(script);
  const read = async (): Promise<Partial<StackEnv>> => {
    const fromScript =
      haveScript && (!o.env.KAFKA_BROKERS || !o.env.SCHEMA_REGISTRY_URL || !o.env.PG_URL)
        ? await stackEnvFromScript(script)
        : {};
    const pick = (k: string) => o.env[k]?.trim() || fromScript[k];
    const brokers = pick('KAFKA_BROKERS');
    const registryUrl = pick('SCHEMA_REGISTRY_URL');
    const pgUrl = o.pgUrl ?? pick('PG_URL');
    return { ...(brokers ? { brokers } : {}), ...(registryUrl ? { registryUrl } : {}), ...(pgUrl ? { pgUrl } : {}) };
  };
  const probe = async (e: Partial<StackEnv>) =>
    e.brokers !== undefined &&
    e.registryUrl !== undefined &&
    e.pgUrl !== undefined &&
    (await kafkaReachable(e.brokers)) &&
    (await registryReachable(e.registryUrl));
  let env = await read();
  if (await probe(env)) {
    o.log(`Kafka ${env.brokers} and the schema registry ${env.registryUrl} answer: using them.`);
    return { env: env as StackEnv, started: false };
  }
  if (!haveScript) {
    throw new CliError('Kafka or the schema registry does not answer, and there is no scripts/stack to start them.', {
      exitCode: ExitCode.UNREACHABLE,
      hint: 'Set KAFKA_BROKERS, SCHEMA_REGISTRY_URL and PG_URL to running services (or run from a checkout with scripts/stack).',
    });
  }
  // Only what the demo uses: no MariaDB (and no apt install of it), no Kafka Connect or Debezium jars, and no
  // PostgreSQL when --pg-url names one.
  const services = o.pgUrl ? 'kafka,registry' : 'kafka,registry,postgres';
  o.log(
    `Kafka or the schema registry does not answer: starting the local stack (scripts/stack up --only ${services}; the first start downloads jars from Maven Central)…`,
  );
  await runScript(script, ['up', '--only', services], (line) => o.log(`  ${line}`)).catch((error: unknown) => {
    throw new CliError(`scripts/stack up failed: ${(error as Error).message}`, {
      exitCode: ExitCode.UNREACHABLE,
      hint: 'See the [stack] lines above and docs/stack.md; `scripts/stack status` shows each service.',
      cause: error,
    });
  });
  env = await read();
  if (!(await probe(env))) {
    throw new CliError('The local stack started but Kafka or the schema registry still does not answer.', {
      exitCode: ExitCode.UNREACHABLE,
      hint: '`scripts/stack status` and the logs under .stack/logs say why.',
    });
  }
  o.log(`Local stack started: Kafka ${env.brokers}, schema registry ${env.registryUrl}.`);
  return { env: env as StackEnv, started: true };
}

/** A demo step that failed: exit 1 with the message as is (what the CLI did for a plain Error). */
function demoFailure(message: string): CliError {
  return new CliError(message, { exitCode: ExitCode.FAILURE });
}

async function waitForRunning(client: ConnectClient, names: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const problems: string[] = [];
    for (const name of names) {
      const s = await client.getConnectorStatus(name);
      if (s.connector.state === 'FAILED')
        throw demoFailure(`connector ${name} FAILED: ${(s.connector.trace ?? '').split('\n')[0]}`);
      const failed = s.tasks.find((t) => t.state === 'FAILED');
      if (failed) throw demoFailure(`task ${name}-${failed.id} FAILED: ${(failed.trace ?? '').split('\n')[0]}`);
      if (s.connector.state !== 'RUNNING' || s.tasks.length === 0 || s.tasks.some((t) => t.state !== 'RUNNING'))
        problems.push(name);
    }
    if (problems.length === 0) return;
    last = problems.join(', ');
    if (Date.now() > deadline) throw demoFailure(`connectors not RUNNING after ${timeoutMs} ms: ${last}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Connectors and tasks FAILED now, each with its trace's first line; a status that cannot be read is skipped. */
async function failedInstances(client: ConnectClient, names: readonly string[]): Promise<string[]> {
  const failed: string[] = [];
  for (const name of names) {
    const s = await client.getConnectorStatus(name).catch(() => undefined);
    if (!s) continue;
    if (s.connector.state === 'FAILED')
      failed.push(`connector ${name} FAILED: ${(s.connector.trace ?? '').split('\n')[0]}`);
    for (const t of s.tasks)
      if (t.state === 'FAILED') failed.push(`task ${name}-${t.id} FAILED: ${(t.trace ?? '').split('\n')[0]}`);
  }
  return failed;
}

async function deleteSubjects(registryUrl: string, prefix: string): Promise<number> {
  const base = registryUrl.replace(/\/$/, '');
  const res = await fetch(`${base}/subjects`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) return 0;
  const subjects = ((await res.json()) as string[]).filter((s) => s.startsWith(prefix));
  for (const s of subjects) {
    const url = `${base}/subjects/${encodeURIComponent(s)}`;
    await fetch(url, { method: 'DELETE', signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    await fetch(`${url}?permanent=true`, { method: 'DELETE', signal: AbortSignal.timeout(5000) }).catch(
      () => undefined,
    );
  }
  return subjects.length;
}

async function countParked(db: ErpDatabase): Promise<number> {
  try {
    const r = await db.pool.query('SELECT count(*)::int AS n FROM erpstream_parked');
    return Number(r.rows[0]?.n ?? 0);
  } catch {
    return 0; // the table appears with the first parked record
  }
}

function totalExpected(ledger: Ledger): number {
  let n = 0;
  for (const c of Object.values(ledger.customers)) for (const ids of Object.values(c.rows)) n += ids.length;
  return n;
}

/** The origin's latest version (change-table sequence) per `<entity>:<id>`; the demo's entities are its tables. */
async function latestVersions(db: ErpDatabase): Promise<Map<string, string>> {
  const res = await db.pool.query(
    `SELECT table_name, record_id, max(seq)::text AS v FROM ${ERP_SCHEMA}.change_log GROUP BY 1, 2`,
  );
  return new Map(
    res.rows.map((r) => [`${String(r.table_name).replace(`${ERP_SCHEMA}.`, '')}:${String(r.record_id)}`, String(r.v)]),
  );
}

function allDelivered(ledger: Ledger, collector: DeliveryCollector, latest: ReadonlyMap<string, string>): boolean {
  const delivered = collector.delivered();
  for (const [customer, c] of Object.entries(ledger.customers)) {
    for (const [entity, ids] of Object.entries(c.rows)) {
      const got = delivered.find((d) => d.customer === customer && d.entity === entity);
      const current = (id: string) =>
        got?.ids.has(id) === true && got.versions?.get(id) === latest.get(`${entity}:${id}`);
      if (!ids.every(current)) return false;
    }
    if (c.poison.some((p) => !collector.deadLetters.some((d) => d.customer === customer && d.id === p.id)))
      return false;
  }
  return true;
}

/** Runs the demo; the caller prints the summary and maps `summary.ok` to the exit code. */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const runId = `${Date.now().toString(36).slice(-4)}${randomBytes(2).toString('hex')}`;
  const topicPrefix = `demo.${runId}.`;
  const namePrefix = `demo-${runId}-`;
  const result: DemoResult = {
    runId,
    summary: null,
    ledger: null,
    topics: [],
    interrupted: false,
    final: null,
    peakParked: 0,
  };
  const cleanups: Array<{ what: string; run: () => Promise<string | void> }> = [];
  let failed = true;
  let workDir: string | undefined;
  let stackStarted = false;
  o.log(`Demo run ${runId}: topics ${topicPrefix}*, connectors ${namePrefix}*.`);
  try {
    const stack = await ensureStack(o);
    stackStarted = stack.started;
    const { brokers, registryUrl } = stack.env;

    // The ERP.
    const serverUrl = stack.env.pgUrl;
    o.log(
      `ERP database: PostgreSQL at ${withoutCredentials(serverUrl)} (${o.pgUrl ? '--pg-url' : 'the local stack'}); ` +
        "an embedded PGlite ERP cannot serve the connectors' concurrent connections (see docs/demo.md).",
    );
    const db = await createErpDatabase(serverUrl, `erpstream_demo_${runId}`);
    cleanups.push({
      what: 'ERP database',
      run: async () => {
        await db.close({ drop: !o.keep });
        return o.keep ? `kept database ${db.name} (${db.displayUrl})` : `dropped database ${db.name}`;
      },
    });
    o.log(
      `Seeded the demo ERP in database ${db.name}: ${CAPTURED_TABLES.map((t) => `${ERP_SCHEMA}.${t.table}`).join(', ')}, change table ${ERP_SCHEMA}.change_log.`,
    );

    // Integrations: expanded offline, then given this run's names.
    const dir = o.integrationsDir ?? EXAMPLE_INTEGRATIONS;
    if (!existsSync(dir)) {
      throw CliError.invalidInput(
        `No integration files at ${dir}.`,
        'The examples ship with the source checkout; pass --integrations <dir> with integration files for the demo ERP.',
      );
    }
    const expansion = expandDocuments(await loadDocuments([dir]));
    const report = validateExpansion(expansion);
    if (report.problems.length > 0) {
      throw CliError.invalidInput(
        `The integration files in ${dir} are not valid:\n${report.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
      );
    }
    const converter =
      o.format === 'avro'
        ? { class: 'io.confluent.connect.avro.AvroConverter', extra: { 'schema.registry.url': registryUrl } }
        : { class: 'org.apache.kafka.connect.json.JsonConverter', extra: { 'schemas.enable': 'true' } };
    // The integration compiler pins each connector's topic format (JSON with schemas unless a file says
    // otherwise); the demo's --format replaces it on every connector, and the worker gets the same below.
    const formatProps: Record<string, string> = {
      'key.converter': converter.class,
      'value.converter': converter.class,
    };
    for (const [k, v] of Object.entries(converter.extra)) {
      formatProps[`key.converter.${k}`] = v;
      formatProps[`value.converter.${k}`] = v;
    }
    const connectors: GeneratedConnector[] = namespaceConnectors(
      expansion.connectors,
      topicPrefix,
      namePrefix,
      (c): Record<string, string> => ({
        ...formatProps,
        // Parked rows are re-checked at least every 2 s, so a short demo settles quickly.
        ...(c.role === 'sink' && c.config['connector.class'] === 'erpstream.LookupSinkConnector'
          ? { 'park.retry.max.ms': '2000' }
          : {}),
      }),
    );
    const targets: SinkTarget[] = sinkTargets(connectors);
    const source = connectors.find((c) => c.role === 'source');
    if (!source) throw CliError.invalidInput(`No source connector in ${dir}.`);
    const sourceTopics = CAPTURED_TABLES.map((t) => `${source.config['topic.prefix']}.${ERP_SCHEMA}.${t.table}`);
    const outTopics = [...new Set(targets.flatMap((t) => [t.destinationTopic, ...(t.dlqTopic ? [t.dlqTopic] : [])]))];
    result.topics = [...sourceTopics, ...outTopics];
    o.log(
      `Integrations ${expansion.integrations.join(', ')} from ${path.relative(process.cwd(), dir) || dir}: ${connectors.length} connectors.`,
    );

    // Topics first: sinks subscribe to them and the collector reads them from the start.
    const kafka: Kafka = createKafka({ brokers, clientId: `erpstream-demo-${runId}`, logLevel: 'error' });
    const admin: Admin = kafka.admin();
    await admin.connect();
    cleanups.push({
      what: 'topics, consumer groups and schemas',
      run: async () => {
        try {
          if (o.keep) return `kept topics ${topicPrefix}* (e.g. erpstream tail ${targets[0]?.destinationTopic ?? ''})`;
          const existing = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
          if (existing.length > 0) await admin.deleteTopics({ topics: existing, timeout: 15_000 });
          const groups = [...targets.map((t) => `connect-${t.connector}`), `erpstream-demo-${runId}`];
          await admin.deleteGroups(groups).catch(() => undefined);
          const subjects = await deleteSubjects(registryUrl, topicPrefix).catch(() => 0);
          return `deleted ${existing.length} topics, ${groups.length} consumer groups and ${subjects} schema subjects`;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
    });
    await ensureTopics(admin, [
      ...sourceTopics.map((topic) => ({ topic, numPartitions: 3 })),
      ...outTopics.map((topic) => ({ topic, numPartitions: 1 })),
    ]);

    // The worker, in this process, on a free port of 127.0.0.1.
    workDir = await mkdtemp(path.join(os.tmpdir(), `erpstream-demo-${runId}-`));
    const logFile = path.join(workDir, 'worker.log');
    const logStream = createWriteStream(logFile, { flags: 'a' });
    const workerProps = demoWorkerProps({ brokers, workDir, topicPrefix, formatProps });
    // The integration files say ${env:ERP_DB_URL}, ${env:ERP_DB_USER}, ${env:ERP_DB_PASSWORD}: this run's ERP,
    // handed over as ${file:…} references the worker resolves (see erp-connection.ts).
    const erpValues = erpConnectionValues(db.url);
    const erpFile = await writeErpConnectionFile(
      workDir,
      erpValues,
      `erpstream demo ${runId}: the ERP connection its connectors read through the worker's file config provider`,
    );
    const worker: RunningWorker = await startStandaloneWorker({
      config: await loadWorkerConfig(undefined, 'standalone', workerProps),
      registry: builtinRegistry(),
      logSink: (line) => logStream.write(`${line}\n`),
    });
    cleanups.push({
      what: 'worker',
      run: async () => {
        await worker.stop();
        await new Promise<void>((r) => logStream.end(r));
        if (o.keep || failed) {
          const kept = path.join(os.tmpdir(), `erpstream-demo-${runId}-worker.log`);
          await copyFile(logFile, kept).catch(() => undefined);
          return `stopped the worker (its log: ${kept})`;
        }
        return 'stopped the worker';
      },
    });
    o.log(
      `Worker started in this process at ${worker.url} (${o.format === 'avro' ? 'Avro through the schema registry' : 'JSON with schemas'}; log ${logFile}).`,
    );
    result.consoleUrl = `${worker.url}/console/`;
    o.log(`Operations console: ${result.consoleUrl} (open it while the demo runs: customers, plots, parked records).`);

    const client = new ConnectClient({ url: worker.url });
    const applied = connectors.map((c) => ({ ...c, config: withFileReferences(c.config, erpFile) }));
    const plan = computePlan({ ...expansion, connectors: applied }, clusterConfigs(await clusterConnectors(client)));
    await executePlan(client, plan, (r) => o.log(`  ${r.action === 'create' ? 'created' : r.action} ${r.name}`));
    await waitForRunning(
      client,
      connectors.map((c) => c.name),
      30_000,
    );
    for (const c of connectors) {
      const shown = keysShowingSecrets(await client.getConnectorConfig(c.name), erpValues);
      if (shown.length > 0) {
        throw demoFailure(`The worker shows the ERP's password in ${c.name}'s config (${shown.join(', ')}).`);
      }
    }
    o.log(
      `The ERP's URL, user and password reach the connectors as \${file:…} references to ${ERP_CONNECTION_FILE} in the ` +
        "worker's temp directory: the worker resolves them, and its REST API shows only the references.",
    );
    o.log(
      `Applied ${expansion.integrations.length} integrations (${expansion.integrations.join(', ')}): 1 shared source, ${targets.length} lookup sinks; all RUNNING.`,
    );

    const collector = new DeliveryCollector(
      kafka,
      `erpstream-demo-${runId}`,
      targets,
      o.format === 'avro' ? registryUrl : undefined,
    );
    await collector.start();
    cleanups.push({ what: 'collector', run: () => collector.stop() });

    // The operations team, with live progress.
    let ledger = emptyLedger(DEMO_CUSTOMERS);
    let latest = new Map<string, string>();
    const started = Date.now();
    const rate = new RateMeter();
    let phase = 'operating';
    const sourceNames = new Set([source.name]);
    let busy = false;
    const snapshot = async (): Promise<DemoProgress> => {
      const metrics = await fetch(`${worker.url}/metrics`)
        .then((r) => r.text())
        .catch(() => '');
      const delivered = collector.deliveredCount();
      const parked = await countParked(db);
      result.peakParked = Math.max(result.peakParked, parked);
      return {
        elapsedMs: Date.now() - started,
        durationMs: o.durationMs,
        phase,
        written: Object.values(ledger.changes).reduce((a, b) => a + b, 0),
        captured: sumMetric(metrics, 'erpstream_task_records_produced_total', sourceNames),
        delivered,
        expected: totalExpected(ledger),
        parked,
        dlq: collector.deadLetters.length,
        lag: await sinkLag(admin, targets).catch(() => 0),
        rate: rate.sample(delivered),
      };
    };
    const tick = setInterval(() => {
      if (busy) return;
      busy = true;
      snapshot()
        .then((p) => o.progress.update(formatDemoProgress(p)))
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, 500);
    try {
      o.log(
        `Operations team at work for ${Math.round(o.durationMs / 1000)} s: shipments and status changes, documents before their ` +
          'domain registration, phones before their persons, one long transaction, one poison row.',
      );
      ledger = await runSimulator(db.pool, {
        durationMs: o.durationMs,
        ...(o.rate !== undefined ? { rate: o.rate } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        onProgress: (l) => (ledger = l),
      });
      result.ledger = ledger;
      if (o.signal?.aborted) {
        result.interrupted = true;
        return result;
      }
      phase = 'settling';
      // The operations have stopped: the origin's latest versions are final.
      latest = await latestVersions(db);
      const settleBy = Date.now() + (o.settleTimeoutMs ?? 60_000);
      while (!allDelivered(ledger, collector, latest) && Date.now() < settleBy && !o.signal?.aborted) {
        await new Promise((r) => setTimeout(r, 250));
      }
      // Then until every sink has committed past its input topics' ends, other customers' records included.
      while ((await sinkLag(admin, targets).catch(() => -1)) !== 0 && Date.now() < settleBy && !o.signal?.aborted) {
        await new Promise((r) => setTimeout(r, 250));
      }
      // A little longer, so a row delivered twice or to the wrong customer shows up too.
      await new Promise((r) => setTimeout(r, 1000));
      while (busy) await new Promise((r) => setTimeout(r, 50));
      const final = await snapshot();
      result.final = final;
      o.progress.done(formatDemoProgress({ ...final, phase: 'done' }));
    } finally {
      clearInterval(tick);
    }
    if (collector.failure) throw collector.failure;
    if (o.signal?.aborted) {
      result.interrupted = true;
      return result;
    }

    const originCheck = await checkLedger(db.pool, ledger, DEMO_CUSTOMERS);
    const lagAtEnd = await sinkLag(admin, targets).catch(() => null);
    result.summary = summarize(ledger, collector.delivered(), collector.deadLetters, originCheck, {
      latestVersions: latest,
      ...(lagAtEnd === null ? {} : { sinkLag: lagAtEnd }),
      failed: await failedInstances(
        client,
        connectors.map((c) => c.name),
      ),
    });
    failed = !result.summary.ok;
    return result;
  } finally {
    o.progress.done();
    for (const c of cleanups.reverse()) {
      try {
        const said = await c.run();
        if (said) o.log(said.charAt(0).toUpperCase() + said.slice(1) + '.');
      } catch (error) {
        o.log(`Could not clean up the ${c.what}: ${(error as Error).message}`);
      }
    }
    if (workDir) await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    const script = o.stackScript ?? STACK_SCRIPT;
    if (stackStarted && !o.keep) {
      o.log('Stopping the local stack the demo started (scripts/stack down; --keep leaves it running)…');
      await runScript(script, ['down'], () => undefined).catch((e: unknown) =>
        o.log(`scripts/stack down failed: ${(e as Error).message}`),
      );
    } else if (stackStarted) {
      o.log('The local stack the demo started keeps running (--keep); stop it with scripts/stack down.');
    } else {
      o.log('The stack was already running and keeps running.');
    }
  }
}

/** Reads a `--duration` value: 20s, 2m, 90 (seconds), 1500ms. */
/**
 * The demo worker's settings. Its operations log (reconcile, repair, replay, redrive audit entries) is a topic of
 * this run, like every other name: on a shared cluster the default `erpstream-operations` would show a user every
 * other worker's and test's operations, and the cleanup deletes it with the run's other topics.
 */
export function demoWorkerProps(o: {
  brokers: string;
  workDir: string;
  topicPrefix: string;
  formatProps: Readonly<Record<string, string>>;
}): Record<string, string> {
  return {
    listeners: 'http://127.0.0.1:0',
    'bootstrap.servers': o.brokers,
    'offset.storage.file.filename': path.join(o.workDir, 'connect.offsets'),
    'offset.flush.interval.ms': '1000',
    'operations.storage.topic': `${o.topicPrefix}operations`,
    ...o.formatProps,
    'task.auto.restart.enable': 'true',
  };
}

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw CliError.invalidInput(`--duration "${text}" is not a duration.`, 'Use e.g. 20s, 2m or 90 (seconds).');
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
  if (ms < 5000)
    throw CliError.invalidInput(`--duration ${text} is too short.`, 'The demo needs at least 5s to show its races.');
  return Math.round(ms);
}

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { builtinRegistry } from '../../../bundle/builtin.js';
import { type ErpDatabase, createErpDatabase } from '../../../cli/demo/erp/database.js';
import { erpConnectionValues, withFileReferences, writeErpConnectionFile } from '../../../cli/demo/erp-connection.js';
import { DeliveryCollector, type SinkTarget, namespaceConnectors, sinkTargets } from '../../../cli/demo/topics.js';
import { ConnectClient } from '../../../cli/connect/client.js';
import { clusterConfigs, clusterConnectors, executePlan } from '../../../cli/integrations/cluster.js';
import { loadDocuments } from '../../../integrations/documents.js';
import { type GeneratedConnector, expandDocuments } from '../../../integrations/expand.js';
import { computePlan } from '../../../cli/integrations/plan.js';
import { type Admin, type Kafka, createKafka, ensureTopics } from '../../../runtime/kafka/index.js';
import { parseWorkerConfig } from '../../../runtime/worker/config.js';
import { type RunningWorker, startStandaloneWorker } from '../../../runtime/launch/standalone.js';
import { requireEnv, uniqueSuffix } from '../env.js';

/**
 * The demo's pipeline on the real stack, for the console's browser tests: a fresh demo ERP database, the
 * example integrations (acme, globex) applied through the same code as `erpstream integrations apply`, a
 * standalone worker with basic auth and a 1 s metric history, and the demo's collector reading what each
 * customer received. Everything carries a unique run id and is removed by stop().
 */

export const USER = 'ops';
export const PASSWORD = 'console-pa55';

const JSON_FORMAT = {
  'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'key.converter.schemas.enable': 'true',
  'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'value.converter.schemas.enable': 'true',
};

export interface ConsolePipeline {
  runId: string;
  worker: RunningWorker;
  url: string;
  db: ErpDatabase;
  connectors: GeneratedConnector[];
  targets: SinkTarget[];
  collector: DeliveryCollector;
  client: ConnectClient;
  /** The connector name of a customer's sink for an entity. */
  sink(customer: string, entity: string): string;
  stop(): Promise<void>;
}

export async function startConsolePipeline(extraWorker: Record<string, string> = {}): Promise<ConsolePipeline> {
  const brokers = requireEnv('KAFKA_BROKERS');
  const pgUrl = requireEnv('PG_URL');
  const runId = uniqueSuffix().replace(/_/g, '').slice(-8);
  const topicPrefix = `console.${runId}.`;
  const namePrefix = `console-${runId}-`;
  const cleanups: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const db = await createErpDatabase(pgUrl, `erpstream_console_${runId}`);
    cleanups.push(() => db.close({ drop: true }));
    const expansion = expandDocuments(await loadDocuments(['examples/integrations']));
    const connectors = namespaceConnectors(expansion.connectors, topicPrefix, namePrefix, (c) => {
      const extra: Record<string, string> = { ...JSON_FORMAT };
      if (c.config['connector.class'] === 'erpstream.LookupSinkConnector') extra['park.retry.max.ms'] = '1000';
      // The code translation table is re-read every second, so a test can fix a poison code and redrive.
      for (const [k, v] of Object.entries(c.config)) {
        const m = /^(delivery\.transforms\.[^.]+)\.type$/.exec(k);
        if (m && v.includes('TranslateCodes')) extra[`${m[1]}.tables.refresh.interval.ms`] = '1000';
      }
      return extra;
    });
    const targets = sinkTargets(connectors);
    const source = connectors.find((c) => c.role === 'source')!;
    const tables = ['party', 'person', 'phone', 'shipment', 'document', 'document_domain'];
    const sourceTopics = tables.map((t) => `${source.config['topic.prefix']}.erp.${t}`);
    const outTopics = [...new Set(targets.flatMap((t) => [t.destinationTopic, ...(t.dlqTopic ? [t.dlqTopic] : [])]))];

    const kafka: Kafka = createKafka({ brokers, clientId: `console-test-${runId}`, logLevel: 'error' });
    const admin: Admin = kafka.admin();
    await admin.connect();
    cleanups.push(async () => {
      const existing = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
      if (existing.length > 0) await admin.deleteTopics({ topics: existing, timeout: 15_000 }).catch(() => undefined);
      await admin
        .deleteGroups([...targets.map((t) => `connect-${t.connector}`), `console-test-${runId}`])
        .catch(() => undefined);
      await admin.disconnect();
    });
    await ensureTopics(admin, [
      ...sourceTopics.map((topic) => ({ topic, numPartitions: 3 })),
      ...outTopics.map((topic) => ({ topic, numPartitions: 1 })),
    ]);

    const dir = await mkdtemp(path.join(os.tmpdir(), `erpstream-console-${runId}-`));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const values = erpConnectionValues(db.url);
    const file = await writeErpConnectionFile(dir, values, 'console browser test');
    const worker = await startStandaloneWorker({
      registry: builtinRegistry(),
      config: parseWorkerConfig({
        listeners: 'http://127.0.0.1:0',
        'bootstrap.servers': brokers,
        'offset.storage.file.filename': path.join(dir, 'offsets.json'),
        'offset.flush.interval.ms': '500',
        'log.level': 'WARN',
        'rest.auth.type': 'basic',
        'rest.auth.basic.username': USER,
        'rest.auth.basic.password': PASSWORD,
        'console.history.interval.ms': '1000',
        ...JSON_FORMAT,
        ...extraWorker,
      }),
      logSink: () => {},
    });
    cleanups.push(() => worker.stop());
    const client = new ConnectClient({ url: worker.url, auth: { kind: 'basic', username: USER, password: PASSWORD } });
    const applied = connectors.map((c) => ({ ...c, config: withFileReferences(c.config, file) }));
    const plan = computePlan({ ...expansion, connectors: applied }, clusterConfigs(await clusterConnectors(client)));
    await executePlan(client, plan, () => undefined);
    await waitForRunning(
      client,
      connectors.map((c) => c.name),
    );
    const collector = new DeliveryCollector(kafka, `console-test-${runId}`, targets, undefined);
    await collector.start();
    cleanups.push(() => collector.stop());
    return {
      runId,
      worker,
      url: worker.url,
      db,
      connectors,
      targets,
      collector,
      client,
      sink: (customer, entity) => targets.find((t) => t.customer === customer && t.entity === entity)!.connector,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function waitForRunning(client: ConnectClient, names: readonly string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(names.map((n) => client.getConnectorStatus(n)));
    if (states.every((s) => s.connector.state === 'RUNNING' && s.tasks.every((t) => t.state === 'RUNNING'))) return;
    if (Date.now() > deadline) throw new Error(`connectors not RUNNING: ${JSON.stringify(states)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Polls `check` until it returns a value other than undefined/false, or fails with `what`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

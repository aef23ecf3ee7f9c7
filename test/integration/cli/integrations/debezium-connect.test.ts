import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectClient } from '../../../../cli/connect/client.js';
import { clusterConfigs, clusterConnectors, executePlan } from '../../../../cli/integrations/cluster.js';
import { slotName } from '../../../../integrations/debezium.js';
import { loadDocuments } from '../../../../integrations/documents.js';
import { type Expansion, expandDocuments } from '../../../../integrations/expand.js';
import { DEFAULT_CLUSTER, computeClusterPlans } from '../../../../cli/integrations/targets.js';
import { validateExpansion } from '../../../../integrations/validate.js';
import { createConsumer, createKafka } from '../../../../runtime/kafka/index.js';
import { requireEnv } from '../../env.js';

/**
 * An integration whose source is Debezium's PostgreSQL connector, registered on the stack's real Apache
 * Kafka Connect 3.9 (its own cluster, named by URL), while the sink is planned for our cluster. Our worker
 * is not started here: the sink's generated config is asserted (topics and the unwrap-first chain).
 */

const run = Date.now().toString(36);
const schema = `dbz_${run}`;
const source = `dbz-${run}`;
const prefix = `dbz${run}`;
const topic = `${prefix}.${schema}.orders`;
let connectUrl: string;
let client: ConnectClient;
let db: pg.Client;
let expansion: Expansion;

beforeAll(async () => {
  connectUrl = requireEnv('CONNECT_URL');
  const pgUrl = new URL(requireEnv('PG_URL'));
  client = new ConnectClient({ url: connectUrl });
  db = new pg.Client({ connectionString: pgUrl.toString() });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.orders (id int PRIMARY KEY, note text NOT NULL)`);

  const password = decodeURIComponent(pgUrl.password);
  const user = decodeURIComponent(pgUrl.username);
  pgUrl.password = '';
  pgUrl.username = '';
  const dir = await mkdtemp(join(tmpdir(), 'erpstream-it-debezium-'));
  // The stack's Connect has no config providers, so the password is literal here (plan hides it).
  await writeFile(
    join(dir, 'customer.yaml'),
    `apiVersion: erpstream/v1
kind: Integration
metadata: {name: cust-${run}}
source:
  name: ${source}
  kind: debezium
  connector: postgresql
  cluster: ${connectUrl}
  connection:
    url: ${pgUrl.toString()}
    user: ${user}
    password: ${JSON.stringify(password)}
  tables: [${schema}.orders]
  topicPrefix: ${prefix}
  config:
    topic.creation.default.replication.factor: "1"
    topic.creation.default.partitions: "1"
sink:
  lookup: {table: ${schema}.orders, keyColumns: [id], entity: order}
  destination: {type: kafka, name: cust, topic: cust-${run}.orders}
`,
  );
  expansion = expandDocuments(await loadDocuments([dir], dir));
}, 60_000);

afterAll(async () => {
  await client?.deleteConnector(`${source}-source`).catch(() => undefined);
  if (!db) return;
  const slot = slotName(source);
  // The slot stays active until Connect's task has stopped: end its walsender, then drop it.
  for (let i = 0; i < 30; i++) {
    await db.query(
      'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL',
      [slot],
    );
    const dropped = await db
      .query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot])
      .then(
        () => true,
        () => false,
      );
    if (dropped) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await db.query(`DROP PUBLICATION IF EXISTS ${slot}`);
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db.end();
}, 60_000);

async function waitRunning(name: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    const s = await client.getConnectorStatus(name).catch(() => undefined);
    const states = s ? [s.connector.state, ...s.tasks.map((t) => t.state)] : [];
    last = JSON.stringify(s);
    if (s && s.tasks.length > 0 && states.every((x) => x === 'RUNNING')) return;
    if (states.includes('FAILED')) throw new Error(`${name} failed: ${last}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${name} not RUNNING within 60 s: ${last}`);
}

describe('a Debezium source on a real Kafka Connect cluster', () => {
  it('plans the source on the Connect cluster and the sink on ours, applies, captures, and re-plans nothing', async () => {
    expect(validateExpansion(expansion).problems).toEqual([]);
    const clusters = new Map([
      [connectUrl, clusterConfigs(await clusterConnectors(client))],
      [DEFAULT_CLUSTER, new Map()],
    ]);
    const plans = computeClusterPlans(expansion, clusters);
    const theirs = plans.get(connectUrl)!;
    expect(theirs.items.map((i) => [i.action, i.role, i.name])).toEqual([['create', 'source', `${source}-source`]]);
    expect(theirs.items[0]!.config).toMatchObject({
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'topic.prefix': prefix,
      'table.include.list': `${schema}\\.orders`,
      'plugin.name': 'pgoutput',
    });
    // The literal password never shows in the plan's diff.
    const shown = JSON.stringify(theirs.items[0]!.changes);
    expect(shown).toContain('[hidden]');
    const ours = plans.get(DEFAULT_CLUSTER)!;
    expect(ours.items.map((i) => [i.action, i.role, i.name])).toEqual([['create', 'sink', `cust-${run}-sink`]]);
    expect(ours.items[0]!.config).toMatchObject({
      topics: topic,
      transforms: 'unwrap',
      'transforms.unwrap.type': 'io.debezium.transforms.ExtractNewRecordState',
    });

    await executePlan(client, theirs);
    await waitRunning(`${source}-source`);
    await db.query(`INSERT INTO ${schema}.orders VALUES (1, 'first order')`);

    const kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: `it-dbz-${run}` });
    const admin = kafka.admin();
    await admin.connect();
    const deadline = Date.now() + 60_000;
    while (!(await admin.listTopics()).includes(topic)) {
      if (Date.now() > deadline) throw new Error(`${topic} never appeared`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const consumer = createConsumer(kafka, { groupId: `it-dbz-${run}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const after = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no record on ${topic} within 60 s`)), 60_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const value = JSON.parse(message.value!.toString()) as { payload: { after: Record<string, unknown> } };
          clearTimeout(timer);
          resolve(value.payload.after);
        },
      });
    });
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    expect(after).toEqual({ id: 1, note: 'first order' });

    const again = computeClusterPlans(
      expansion,
      new Map([
        [connectUrl, clusterConfigs(await clusterConnectors(client))],
        [DEFAULT_CLUSTER, new Map()],
      ]),
    );
    expect(again.get(connectUrl)!.items.map((i) => i.action)).toEqual(['unchanged']);
  }, 180_000);
});

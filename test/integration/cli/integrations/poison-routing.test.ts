import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDocuments } from '../../../../integrations/documents.js';
import { expandDocuments } from '../../../../integrations/expand.js';
import { validateExpansion } from '../../../../integrations/validate.js';
import { DLQ_HEADERS } from '../../../../runtime/errors/dlq.js';
import { createKafka, createProducer, ensureTopics } from '../../../../runtime/kafka/index.js';
import { type RunningWorker } from '../../../../runtime/launch/standalone.js';
import { writeTree } from '../../../unit/cli/integrations/write-files.js';
import { eventually } from '../../connectors/lookup-sink/harness.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { SCHEMALESS_JSON, startTestWorker } from '../../test-worker.js';

/**
 * Two customers' integration files on one shared ERP topic, their generated lookup sinks on a real worker,
 * PostgreSQL as the origin and the code translation table: customer A's poison row (a status code the table does
 * not know) reaches A's dead-letter topic only. B's sink routes by customer first, so it drops A's records before
 * any translation could fail on them. What each customer receives is the cleaned and translated looked-up row.
 */
const brokers = requireEnv('KAFKA_BROKERS');
const pgUrl = requireEnv('PG_URL');
const run = Date.now().toString(36);
const sfx = uniqueSuffix();
const schema = `it_integ_poison_${sfx}`;
const input = `it-integ-poison-in-${sfx}`;
const a = `pa-${run}`;
const b = `pb-${run}`;
const kafka = createKafka({ brokers, clientId: 'it-integ-poison', logLevel: 'nothing' });
let db: pg.Client;
let worker: RunningWorker;

const base = `apiVersion: erpstream/v1
kind: IntegrationTemplate
source:
  name: erp-${run}
  connection: { url: "${pgUrl}" }
  capture: { changeTable: ${schema}.change_log }
  tables: [${schema}.shipment]
  topicPrefix: erp-${run}
  # The test writes the input topic itself, as schemaless JSON; the sinks read with the source's converters.
  config:
    key.converter: org.apache.kafka.connect.json.JsonConverter
    key.converter.schemas.enable: "false"
    value.converter: org.apache.kafka.connect.json.JsonConverter
    value.converter.schemas.enable: "false"
clean:
  stripPrefixes: [Z_]
  case: camel
errors:
  tolerance: all
  deadLetterQueue: { topic: "\${customer}.dlq", replicationFactor: 1, contextHeaders: true }
sink:
  topics: [${input}]
  translate:
    fields: { statCd: shipment_status }
    connectionUrl: "${pgUrl}"
    query: SELECT table_name, code, value FROM ${schema}.code_translation
    onMiss: fail
  lookup: { table: ${schema}.shipment, keyColumns: [SHPMT_NO], entity: shipment }
  destination: { type: kafka, name: "\${customer}", topic: "\${customer}.shipments" }
  config:
    ledger.table: ${schema}.ledger
    park.table: ${schema}.parked
`;
const customer = (name: string, code: string) =>
  `apiVersion: erpstream/v1\nkind: Integration\nextends: ./base.yaml\nmetadata: {name: ${name}}\n` +
  `domain: {field: custCd, codes: [${code}]}\n`;

interface Message {
  key: string | null;
  value: Record<string, unknown> | null;
  headers: Record<string, string>;
}

async function topics(): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

async function read(topic: string, atLeast: number): Promise<Message[]> {
  await eventually(async () => expect(await topics()).toContain(topic), 30_000);
  const consumer = kafka.consumer({ groupId: `it-integ-poison-reader-${uniqueSuffix()}` });
  const got: Message[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
        got.push({
          key: message.key?.toString() ?? null,
          value: message.value ? (JSON.parse(message.value.toString()) as Record<string, unknown>) : null,
          headers,
        });
      },
    });
    await eventually(() => expect(got.length).toBeGreaterThanOrEqual(atLeast), 30_000);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

async function committed(group: string): Promise<string | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [input] });
    return t?.partitions[0]?.offset;
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.shipment (
    "SHPMT_NO" varchar(12) PRIMARY KEY, "Z_CUST_CD" char(4) NOT NULL, "STAT_CD" varchar(2) NOT NULL)`);
  await db.query(`CREATE TABLE ${schema}.code_translation (table_name text, code text, value text)`);
  await db.query(
    `INSERT INTO ${schema}.code_translation VALUES ('shipment_status', '10', 'CREATED'), ('shipment_status', '20', 'PICKED')`,
  );
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: input, numPartitions: 1 }]);
  await admin.disconnect();
  ({ worker } = await startTestWorker('integ-poison', SCHEMALESS_JSON));
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe('integration files: routing by customer before code translation', () => {
  it("dead-letters customer A's poison row in A's DLQ only, and delivers cleaned, translated rows", async () => {
    const dir = await writeTree({ 'base.yaml': base, 'a.yaml': customer(a, 'AC01'), 'b.yaml': customer(b, 'GX01') });
    const expansion = expandDocuments(await loadDocuments([path.join(dir, 'a.yaml'), path.join(dir, 'b.yaml')], dir));
    expect(validateExpansion(expansion).problems).toEqual([]);
    const sinks = expansion.connectors.filter((c) => c.role === 'sink');
    expect(sinks.map((c) => c.name)).toEqual([`${a}-sink`, `${b}-sink`]);

    const rows = [
      ['A1', 'AC01', '10'],
      ['AP', 'AC01', '77'], // A's poison row: 77 is not in the translation table
      ['B1', 'GX01', '20'],
    ];
    for (const r of rows) await db.query(`INSERT INTO ${schema}.shipment VALUES ($1, $2, $3)`, r);
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send({
      topic: input,
      acks: -1,
      messages: rows.map(([id, cust, stat], i) => ({
        key: JSON.stringify({ SHPMT_NO: id }),
        value: JSON.stringify({ SHPMT_NO: id, Z_CUST_CD: cust, STAT_CD: stat }),
        headers: { 'erpstream.version': String(i + 1) },
      })),
    });
    await producer.disconnect();

    // Only the sinks: the shared ERP source is not what this test is about.
    for (const c of sinks) {
      const res = await fetch(`${worker.url}/connectors`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: c.name, config: c.config }),
      });
      expect(res.status, await res.clone().text()).toBe(201);
    }

    const [aRow] = await read(`${a}.shipments`, 1);
    expect(aRow!.key).toBe('A1');
    expect(aRow!.value).toEqual({ shpmtNo: 'A1', custCd: 'AC01', statCd: 'CREATED' });
    const [bRow] = await read(`${b}.shipments`, 1);
    expect(bRow!.key).toBe('B1');
    expect(bRow!.value).toEqual({ shpmtNo: 'B1', custCd: 'GX01', statCd: 'PICKED' });

    const aDead = await read(`${a}.dlq`, 1);
    expect(aDead.map((m) => m.key)).toEqual([JSON.stringify({ SHPMT_NO: 'AP' })]);
    expect(aDead[0]!.headers[DLQ_HEADERS.exceptionMessage]).toMatch(
      /Transform 'codes' \(erpstream\.transforms\.TranslateCodes\) failed: .*77/,
    );

    // B's sink has consumed past A's poison row (B1 comes after it) and committed everything, other customers'
    // records included; its dead-letter topic was never created.
    await eventually(async () => expect(await committed(`connect-${b}-sink`)).toBe('3'), 30_000);
    await eventually(async () => expect(await committed(`connect-${a}-sink`)).toBe('3'), 30_000);
    expect(await topics()).not.toContain(`${b}.dlq`);
  }, 120_000);
});

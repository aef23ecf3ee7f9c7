import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { ConfigError, type SinkTaskContext } from '../../../../runtime/api/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type Reported, shapingContext, sinkRecord, testContext } from './harness.js';

// delivery.transforms with the jdbc and http destinations: the shaped row's field names are the columns written
// (jdbc) and its JSON is the request body (http). The task gets the worker's own chain factory.
const sfx = uniqueSuffix();
const schema = `ls_shape_dest_${sfx}`;
const pgUrl = requireEnv('PG_URL');
let db: pg.Client;
let server: Server;
let baseUrl: string;
const requests: Array<{ path: string; key: string; body: string }> = [];

const context = (dlq: Reported[], progress: Array<Record<string, unknown>> = []): SinkTaskContext =>
  shapingContext({ dlq, progress });

function props(extra: Record<string, string>): Record<string, string> {
  return {
    'lookup.connection.url': pgUrl,
    'lookup.table': `${schema}.doc`,
    'lookup.key.columns': 'DOC_ID',
    'entity.name': 'doc',
    'ledger.table': `${schema}.ledger`,
    'park.table': `${schema}.parked`,
    'park.check.interval.ms': '3600000',
    'delivery.transforms': 'clean,internal',
    'delivery.transforms.clean.type': 'CleanSchema',
    'delivery.transforms.clean.renames': 'DOC_ID:doc_id,Z_CUST_CD:cust_cd,AMT:amt,ACTIVE:active',
    'delivery.transforms.clean.boolean.fields': 'ACTIVE',
    'delivery.transforms.clean.decimal.fields': 'AMT:2',
    'delivery.transforms.clean.drop.fields': 'NOTE',
    // Internal documents (customer code INT0) are never delivered.
    'delivery.transforms.internal.type': 'Filter',
    'delivery.transforms.internal.predicate': 'isInternal',
    'delivery.predicates': 'isInternal',
    'delivery.predicates.isInternal.type': 'TopicNameMatches',
    'delivery.predicates.isInternal.pattern': '.*INT0.*',
    ...extra,
  };
}

const records = () =>
  [1, 2, 3].map((id, i) =>
    sinkRecord({ topic: 'docs', offset: BigInt(i), key: { DOC_ID: id }, version: 10n + BigInt(id) }),
  );

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', key: String(req.headers['idempotency-key']), body });
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.doc (
    "DOC_ID" int PRIMARY KEY, "Z_CUST_CD" char(4) NOT NULL, "AMT" numeric(10,2), "ACTIVE" char(1), "NOTE" text)`);
  // 1: delivered; 2: internal (filtered); 3: ACTIVE=X is neither true nor false (the chain fails → DLQ).
  await db.query(
    `INSERT INTO ${schema}.doc VALUES (1, 'AC01', 12.5, 'Y', 'n1'), (2, 'INT0', 1, 'Y', 'n2'), (3, 'AC01', 3, 'X', 'n3')`,
  );
  await db.query(`CREATE TABLE ${schema}.doc_out (
    doc_id int PRIMARY KEY, cust_cd text, amt numeric(10,2), active boolean, erpstream_version bigint)`);
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe('LookupSink delivery.transforms with jdbc and http destinations', () => {
  it('jdbc: writes the shaped columns with the version guard; a row the chain fails on goes to the DLQ', async () => {
    const dlq: Reported[] = [];
    const progress: Array<Record<string, unknown>> = [];
    const task = new LookupSinkTask();
    task.initialize(context(dlq, progress));
    await task.start(
      props({
        'destination.type': 'jdbc',
        'destination.name': `jdbc_${sfx}`,
        'destination.table': `${schema}.doc_out`,
        // The shaped name of the key column: the default would be the origin's DOC_ID.
        'destination.key.columns': 'doc_id',
        'delivery.transforms': 'clean',
      }),
    );
    try {
      await task.put(records());
      await task.flush(); // put() may return while a pipelined batch is still written
      const rows = await db.query(
        `SELECT doc_id, cust_cd, amt::text AS amt, active, erpstream_version::int AS v FROM ${schema}.doc_out ORDER BY 1`,
      );
      expect(rows.rows).toEqual([
        { doc_id: 1, cust_cd: 'AC01', amt: '12.50', active: true, v: 11 },
        { doc_id: 2, cust_cd: 'INT0', amt: '1.00', active: true, v: 12 },
      ]);
      expect(dlq.map((d) => d.record.key)).toEqual([{ DOC_ID: 3 }]);
      expect(dlq[0]!.error.message).toMatch(
        /^Transform 'clean' \(erpstream\.transforms\.CleanSchema\) failed: .*"ACTIVE"/,
      );
      expect(task.metrics()).toMatchObject({ delivered: 2, filtered: 0 });
      const offsets = await task.preCommit(new Map([[{ topic: 'docs', partition: 0 }, 3n]]));
      expect([...offsets.values()]).toEqual([3n]);
    } finally {
      await task.stop();
    }
  });

  it('http: POSTs the shaped row as the body with the unchanged Idempotency-Key; a filtered row is counted', async () => {
    const dlq: Reported[] = [];
    const task = new LookupSinkTask();
    task.initialize(context(dlq));
    // The target URL carries the customer code, so the predicate sees it in the record's topic.
    await task.start(
      props({
        'destination.type': 'http',
        'destination.name': `http_${sfx}`,
        'destination.url': `${baseUrl}/hooks/\${Z_CUST_CD}/docs`,
      }),
    );
    try {
      await task.put(records());
      expect(requests.map((r) => [r.path, r.key])).toEqual([['/hooks/AC01/docs', 'doc:1:11']]);
      expect(JSON.parse(requests[0]!.body)).toEqual({ doc_id: 1, cust_cd: 'AC01', amt: '12.50', active: true });
      expect(dlq).toHaveLength(1);
      expect(task.metrics()).toMatchObject({ delivered: 1, filtered: 1 });
      const offsets = await task.preCommit(new Map([[{ topic: 'docs', partition: 0 }, 3n]]));
      expect([...offsets.values()]).toEqual([3n]);
    } finally {
      await task.stop();
    }
  });

  it('refuses delivery.transforms on a runtime that cannot build chains', async () => {
    const task = new LookupSinkTask();
    task.initialize(testContext({ dlq: [] }));
    const error = await task
      .start(props({ 'destination.type': 'http', 'destination.url': `${baseUrl}/x` }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('delivery.transforms');
  });
});

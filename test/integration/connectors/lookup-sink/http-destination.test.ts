import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { RetriableError } from '../../../../runtime/api/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type Reported, sinkRecord, testContext } from './harness.js';

// A real HTTP receiver on 127.0.0.1 that answers 500, hangs, or answers 400, as a customer's webhook might.
const sfx = uniqueSuffix();
const schema = `ls_http_${sfx}`;
let db: pg.Client;
let server: Server;
let baseUrl: string;
type Behaviour = 'ok' | '500' | 'hang' | '400';
/** Per path, the answers still to give (then 'ok'); or a fixed answer. */
const script = new Map<string, Behaviour[]>();
let fixed: Behaviour | null = null;
const requests: Array<{ method: string; path: string; key: string; body: string }> = [];

function handle(req: IncomingMessage, res: ServerResponse): void {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    const path = req.url ?? '';
    requests.push({ method: req.method ?? '', path, key: String(req.headers['idempotency-key']), body });
    const next = fixed ?? script.get(path)?.shift() ?? 'ok';
    if (next === 'hang') return; // never answers: the client's timeout must fire
    if (next === '500') res.writeHead(500).end('try later');
    else if (next === '400') res.writeHead(400, { 'content-type': 'text/plain' }).end('unknown customer account');
    else res.writeHead(200).end('{}');
  });
}

function props(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'lookup.connection.url': requireEnv('PG_URL'),
    'lookup.table': `${schema}.document`,
    'lookup.key.columns': 'document_id',
    'entity.name': 'document',
    'destination.type': 'http',
    'destination.name': `http_${sfx}`,
    'destination.url': `${baseUrl}/hooks/\${domain}/documents`,
    'destination.http.timeout.ms': '300',
    'destination.http.retry.initial.ms': '10',
    'destination.http.retry.max.ms': '40',
    'destination.http.retry.max.attempts': '4',
    'ledger.table': `${schema}.ledger`,
    'park.table': `${schema}.parked`,
    'park.check.interval.ms': '3600000',
    ...extra,
  };
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  db = new pg.Client({ connectionString: requireEnv('PG_URL') });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, domain text, title text)`);
  await db.query(
    `INSERT INTO ${schema}.document VALUES (1, 'acme', 'one'), (2, 'initech', 'two'), (3, 'acme', 'three')`,
  );
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await db.query(`DROP SCHEMA ${schema} CASCADE`);
  await db.end();
});

describe('LookupSink http destination', () => {
  it('retries 500s and timeouts with the same Idempotency-Key, sends 400s to the DLQ with context', async () => {
    script.set('/hooks/acme/documents', ['500', 'hang', 'ok', 'ok']);
    script.set('/hooks/initech/documents', ['400']);
    const dlq: Reported[] = [];
    const task = new LookupSinkTask();
    task.initialize(testContext({ dlq }));
    await task.start(props({ 'destination.http.max.in.flight': '1' }));
    try {
      await task.put(
        [1, 2, 3].map((id, i) => sinkRecord({ topic: 'docs', offset: BigInt(i), key: id, version: 10n + BigInt(id) })),
      );
      const acme = requests.filter((r) => r.path === '/hooks/acme/documents');
      // Document 1: 500, timeout, then accepted; every attempt carries the same key.
      expect(acme.filter((r) => r.key === 'document:1:11')).toHaveLength(3);
      expect(acme.filter((r) => r.key === 'document:3:13')).toHaveLength(1);
      expect(JSON.parse(acme.at(-1)!.body)).toEqual({ document_id: 3, domain: 'acme', title: 'three' });
      // Document 2: the 400 is not retried; its record is in the DLQ with the answer.
      expect(requests.filter((r) => r.path === '/hooks/initech/documents')).toHaveLength(1);
      expect(dlq).toHaveLength(1);
      expect(dlq[0]!.record).toMatchObject({ topic: 'docs', kafkaOffset: 1n, key: 2 });
      expect(dlq[0]!.error.message).toMatch(/answered 400 .*document 2 version 12: unknown customer account/);
      expect(task.metrics()).toMatchObject({
        delivered: 2,
        dlq: { [`http_${sfx}`]: 1 },
        destination: { breaker: 'closed', httpRetries: 2 },
      });

      // The refused version was not recorded as delivered: a fixed, newer version goes through.
      await task.put([sinkRecord({ topic: 'docs', offset: 3n, key: 2, version: 14n })]);
      expect(requests.at(-1)).toMatchObject({ path: '/hooks/initech/documents', key: 'document:2:14' });
      expect(task.metrics().delivered).toBe(3);

      // The origin row is deleted: a delete event goes to where the row was delivered.
      await db.query(`DELETE FROM ${schema}.document WHERE document_id = 3`);
      await task.put([sinkRecord({ topic: 'docs', offset: 4n, key: 3, version: 15n })]);
      expect(requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/hooks/acme/documents', key: 'document:3:15' });
      expect(JSON.parse(requests.at(-1)!.body)).toEqual({ entity: 'document', id: '3', version: 15, deleted: true });
    } finally {
      await task.stop();
    }
  });

  it('opens the circuit breaker on repeated failures, fails fast, and closes after a good trial', async () => {
    await db.query(`INSERT INTO ${schema}.document VALUES (7, 'umbrella', 'seven')`);
    const task = new LookupSinkTask();
    task.initialize(testContext({ dlq: [] }));
    await task.start(
      props({
        'destination.name': `breaker_${sfx}`,
        'destination.http.retry.max.attempts': '2',
        'destination.http.breaker.failure.threshold': '2',
        'destination.http.breaker.reset.ms': '300',
      }),
    );
    const tp = { topic: 'docs', partition: 0 };
    const rec = sinkRecord({ topic: 'docs', offset: 0n, key: 7, version: 1n });
    try {
      fixed = '500';
      await expect(task.put([rec])).rejects.toBeInstanceOf(RetriableError);
      expect(task.metrics().destination).toMatchObject({ breaker: 'open', breakerOpened: 1 });
      // The failed record's offset is not safe to commit.
      expect((await task.preCommit(new Map([[tp, 1n]]))).size).toBe(0);

      const before = requests.length;
      await expect(task.put([rec])).rejects.toThrow(/Circuit breaker .* is open/);
      expect(requests.length).toBe(before); // failed fast, the receiver was left alone

      fixed = null;
      await new Promise((r) => setTimeout(r, 320));
      expect(task.metrics().destination).toMatchObject({ breaker: 'half-open' });
      await task.put([rec]);
      expect(task.metrics()).toMatchObject({ delivered: 1, destination: { breaker: 'closed' } });
      expect((await task.preCommit(new Map([[tp, 1n]]))).get(tp)).toBe(1n);
    } finally {
      fixed = null;
      await task.stop();
    }
  });
});

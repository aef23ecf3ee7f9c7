import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { type RunningWorker } from '../../../runtime/launch/standalone.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { SCHEMALESS_JSON, startTestWorker } from '../test-worker.js';
import { waitFor } from '../../support/worker.js';
import { seededRandom, sendDocumentEvents, watchForFailures } from './sink-fault-support.js';

/**
 * The LookupSink with an http destination across an outage of the receiver (a customer's webhook): for
 * ERPSTREAM_FAULT_DOWN_MS (15 s by default) it answers 503, then refuses connections (closed, its keep-alive
 * connections dropped; the tasks are restarted in this phase, so new instances start against a receiver that is not
 * there), then accepts requests and never answers (the client's timeout must fire), while writers keep changing
 * documents and their events keep arriving, replays among them. Asserted: no task or connector was ever FAILED,
 * every document's last accepted request carries its origin state and newest version, and the versions a receiver
 * accepted for a document never went back (a repeat of the same version, which the Idempotency-Key lets a receiver
 * drop, is counted and allowed).
 */

const DOWN_MS = Number(process.env.ERPSTREAM_FAULT_DOWN_MS ?? 15_000);
const DOCS = 30;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Mode = 'ok' | '503' | 'hang' | 'down';

describe('LookupSink http destination across a receiver outage', () => {
  const sfx = uniqueSuffix();
  const schema = `it_http_outage_${sfx}`;
  const input = `it-http-outage-${sfx}`;
  const kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'it-http-outage', logLevel: 'nothing' });
  const producer = createProducer(kafka);
  const db = new pg.Pool({ connectionString: requireEnv('PG_URL'), max: 4 });
  let worker: RunningWorker | undefined;
  let server: Server;
  let port = 0;
  let mode: Mode = 'ok';
  /** Requests answered 2xx, in the order they were answered: what the receiver took. */
  const accepted: Array<{ id: number; version: bigint; key: string; rev: number; title: string }> = [];
  const seen = { '503': 0, hang: 0, ok: 0 };
  const hanging = new Set<ServerResponse>();
  const log: string[] = [];

  function handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (mode === '503') {
        seen['503']++;
        res.writeHead(503).end('maintenance');
        return;
      }
      if (mode === 'hang') {
        seen.hang++;
        hanging.add(res);
        return;
      }
      seen.ok++;
      const doc = JSON.parse(body) as { document_id: number; rev: number | string; title: string };
      accepted.push({
        id: Number(doc.document_id),
        version: BigInt(String(req.headers['x-erpstream-version'])),
        key: String(req.headers['idempotency-key']),
        rev: Number(doc.rev),
        title: doc.title,
      });
      res.writeHead(200).end('{}');
    });
  }

  const listen = () => new Promise<void>((r) => server.listen(port, '127.0.0.1', r));

  beforeAll(async () => {
    server = createServer(handle);
    await listen();
    port = (server.address() as AddressInfo).port;
    await db.query(`CREATE SCHEMA ${schema}`);
    await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text NOT NULL, rev bigint)`);
    for (let id = 1; id <= DOCS; id++) {
      await db.query(`INSERT INTO ${schema}.document VALUES ($1, $2, 1)`, [id, `doc ${id} rev 1`]);
    }
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: input, numPartitions: 3 }]);
    await admin.disconnect();
    await producer.connect();
    ({ worker } = await startTestWorker(
      'http-outage',
      { ...SCHEMALESS_JSON, ...(process.env.ERPSTREAM_FAULT_LOG ? { 'log.level': 'INFO' } : {}) },
      { logSink: (line) => log.push(line) },
    ));
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await producer.disconnect().catch(() => {});
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await db.end();
  });

  it('loses no document, never goes back a version, and never fails a task', async () => {
    const send = (events: Array<{ id: number; version: bigint }>) =>
      sendDocumentEvents(producer, input, events, 30_000);
    const name = `http-outage-${sfx}`;
    const res = await fetch(`${worker!.url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name,
        config: {
          'connector.class': 'LookupSink',
          topics: input,
          'tasks.max': '2',
          'lookup.connection.url': requireEnv('PG_URL'),
          'lookup.table': `${schema}.document`,
          'lookup.key.columns': 'document_id',
          'entity.name': 'document',
          'destination.type': 'http',
          'destination.name': `http_outage_${sfx}`,
          'destination.url': `http://127.0.0.1:${port}/documents`,
          'destination.http.timeout.ms': '500',
          'destination.http.retry.initial.ms': '50',
          'destination.http.retry.max.ms': '200',
          'destination.http.retry.max.attempts': '3',
          // A short breaker, so that each phase of the outage is tried (the default keeps it open 5 s, a phase's length).
          'destination.http.breaker.reset.ms': '1000',
          'ledger.table': `${schema}.ledger`,
          'park.table': `${schema}.parked`,
        },
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const watcher = watchForFailures(worker!.url, name);

    // Writers: each change commits in the origin first, then its event goes to Kafka; some replay the version before.
    const sentVersion = new Map<number, bigint>();
    let writing = true;
    let commits = 0;
    const writer = async (seed: number) => {
      const next = seededRandom(seed);
      while (writing) {
        const id = 1 + (next() % DOCS);
        const { rows } = await db.query<{ rev: string }>(
          `UPDATE ${schema}.document SET rev = rev + 1, title = 'doc ' || document_id || ' rev ' || (rev + 1)
             WHERE document_id = $1 RETURNING rev::text`,
          [id],
        );
        commits++;
        const version = BigInt(rows[0]!.rev);
        if (version > (sentVersion.get(id) ?? 0n)) sentVersion.set(id, version);
        const replay = next() % 5 === 0 && version > 2n ? [{ id, version: version - 1n }] : [];
        await send([{ id, version }, ...replay]);
        await sleep(5 + (next() % 20));
      }
    };
    for (let id = 1; id <= DOCS; id++) sentVersion.set(id, 1n);
    await send([...sentVersion].map(([id, version]) => ({ id, version })));
    const writers = [writer(5), writer(17), writer(23)];

    await sleep(3_000);
    mode = '503';
    await sleep(DOWN_MS / 3);
    // Gone: new connections refused, open keep-alive connections dropped.
    mode = 'down';
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await sleep(DOWN_MS / 6);
    const restarted = await fetch(`${worker!.url}/connectors/${name}/restart?includeTasks=true`, { method: 'POST' });
    expect(restarted.status).toBeLessThan(300);
    await sleep(DOWN_MS / 6);
    mode = 'hang';
    await listen();
    await sleep(DOWN_MS / 3);
    mode = 'ok';
    for (const r of hanging) r.destroy();
    hanging.clear();
    await sleep(3_000);
    writing = false;
    await Promise.all(writers);
    expect(commits).toBeGreaterThan(50);

    const { rows: origin } = await db.query<{ document_id: number; title: string; rev: string }>(
      `SELECT document_id, title, rev::text FROM ${schema}.document`,
    );
    const latest = () => {
      const last = new Map<number, (typeof accepted)[number]>();
      for (const a of accepted) last.set(a.id, a);
      return last;
    };
    const behind = () =>
      origin
        .filter((o) => {
          const a = latest().get(o.document_id);
          return (
            !a || String(a.rev) !== o.rev || a.title !== o.title || a.version !== (sentVersion.get(o.document_id) ?? 1n)
          );
        })
        .map((o) => {
          const a = latest().get(o.document_id);
          return `${o.document_id}: origin rev ${o.rev}, newest sent v${sentVersion.get(o.document_id)}, receiver ${
            a ? `rev ${a.rev} v${a.version}` : 'nothing'
          }`;
        });
    await waitFor(() => behind().length === 0, 120_000, 'every document accepted at its newest version').catch(
      () => null,
    );
    const failures = await watcher.stop();
    const status = await (await fetch(`${worker!.url}/connectors/${name}/status`)).text();
    const groupAdmin = kafka.admin();
    await groupAdmin.connect();
    const group = (await groupAdmin.describeGroups([`connect-${name}`])).groups[0]!;
    await groupAdmin.disconnect();
    const members = `group ${group.state}, ${group.members.length} members: ${group.members.map((m) => m.memberId).join(', ')}`;
    if (process.env.ERPSTREAM_FAULT_LOG) {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(process.env.ERPSTREAM_FAULT_LOG, [status, members, ...log].join('\n'));
    }
    expect(behind(), `status ${status}\n${members}\nlog tail:\n${log.slice(-15).join('\n')}`).toEqual([]);

    // What the receiver took never went back for a document; a repeat of the same version is allowed (and counted).
    const last = new Map<number, bigint>();
    const backwards: string[] = [];
    let repeats = 0;
    for (const a of accepted) {
      const before = last.get(a.id);
      if (before !== undefined && a.version < before) backwards.push(`${a.id}: v${before} → v${a.version}`);
      if (before !== undefined && a.version === before) repeats++;
      last.set(a.id, a.version > (before ?? 0n) ? a.version : before!);
    }
    expect(backwards).toEqual([]);
    expect(repeats, `repeats of one version (Idempotency-Key) among ${accepted.length} accepted`).toBeLessThan(
      accepted.length,
    );
    expect(failures).toEqual([]);
    expect(seen['503'], 'the receiver answered 503').toBeGreaterThan(0);
    expect(seen.hang, 'the receiver left requests unanswered').toBeGreaterThan(0);
  }, 600_000);
});

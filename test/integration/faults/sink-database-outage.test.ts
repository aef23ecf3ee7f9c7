import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { type RunningWorker } from '../../../runtime/launch/standalone.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { SCHEMALESS_JSON, startTestWorker } from '../test-worker.js';
import { waitFor } from '../../support/worker.js';
import { privatePostgres } from './private-stack.js';
import { seededRandom, sendDocumentEvents, watchForFailures } from './sink-fault-support.js';

/**
 * The LookupSink across an outage of its database: the origin it looks documents up in, its jdbc destination, its
 * ledger and its park table all live in a PRIVATE PostgreSQL, which is stopped (`pg_ctl stop -m immediate`: open
 * transactions die mid-flight, connections drop) for ERPSTREAM_FAULT_DOWN_MS (20 s by default; set 60000 for a
 * full minute) while writers keep changing documents and their events keep arriving, replays and not-yet-registered
 * documents among them; halfway through the outage the tasks are restarted, so new instances start without their
 * database. Asserted: no task or connector was ever FAILED, every document ends at its origin state with
 * its newest version, no destination row ever went back to an older version or was written twice with the same one
 * (a trigger records every write), and nothing stays parked.
 */

const DOWN_MS = Number(process.env.ERPSTREAM_FAULT_DOWN_MS ?? 20_000);
const DOCS = 40;
/** Documents registered to the customer only after the outage: their events park until then. */
const LATE = new Set([7, 19, 33]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LookupSink across a database outage (private PostgreSQL)', () => {
  const sfx = uniqueSuffix();
  const input = `it-sink-outage-${sfx}`;
  const kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'it-sink-outage', logLevel: 'nothing' });
  const producer = createProducer(kafka);
  let db: Awaited<ReturnType<typeof privatePostgres>>;
  let worker: RunningWorker | undefined;
  const log: string[] = [];

  /** A fresh connection per use: the server goes away under it. */
  async function sql<T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
    const c = new pg.Client({ connectionString: db.url, connectionTimeoutMillis: 2_000 });
    c.on('error', () => {});
    try {
      await c.connect();
      return (await c.query<T>(text, params)).rows;
    } finally {
      await c.end().catch(() => {});
    }
  }

  beforeAll(async () => {
    db = await privatePostgres();
    await sql(`CREATE TABLE document (document_id int PRIMARY KEY, title text NOT NULL, rev bigint NOT NULL)`);
    await sql(`CREATE TABLE document_domain (document_id int PRIMARY KEY, domain text NOT NULL)`);
    await sql(
      `CREATE TABLE document_out (document_id int PRIMARY KEY, title text, rev bigint, domain text,
         erpstream_version numeric(20,0))`,
    );
    // Every write the sink makes to its destination, in commit order.
    await sql(
      `CREATE TABLE document_out_history (n bigserial PRIMARY KEY, document_id int, rev bigint, version numeric)`,
    );
    await sql(`CREATE FUNCTION record_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO document_out_history (document_id, rev, version)
          VALUES (NEW.document_id, NEW.rev, NEW.erpstream_version);
        RETURN NEW;
      END $$`);
    await sql(`CREATE TRIGGER history AFTER INSERT OR UPDATE ON document_out
      FOR EACH ROW EXECUTE FUNCTION record_write()`);
    for (let id = 1; id <= DOCS; id++) {
      await sql(`INSERT INTO document VALUES ($1, $2, 1)`, [id, `doc ${id} rev 1`]);
      if (!LATE.has(id)) await sql(`INSERT INTO document_domain VALUES ($1, 'acme')`, [id]);
    }
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: input, numPartitions: 3 }]);
    await admin.disconnect();
    await producer.connect();
    ({ worker } = await startTestWorker('sink-outage', SCHEMALESS_JSON, { logSink: (line) => log.push(line) }));
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await producer.disconnect().catch(() => {});
    await db?.destroy();
  });

  it('loses no document, never goes back a version or writes one twice, and never fails a task', async () => {
    const send = (events: Array<{ id: number; version: bigint }>) =>
      sendDocumentEvents(producer, input, events, 30_000);
    const name = `sink-outage-${sfx}`;
    const res = await fetch(`${worker!.url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name,
        config: {
          'connector.class': 'LookupSink',
          topics: input,
          'tasks.max': '2',
          'lookup.connection.url': db.url,
          'lookup.query':
            'SELECT d.document_id, d.title, d.rev, dd.domain FROM document d ' +
            'LEFT JOIN document_domain dd ON dd.document_id = d.document_id WHERE d.document_id IN (:ids)',
          'lookup.key.columns': 'document_id',
          'entity.name': 'document',
          dependencies: 'registered',
          'dependencies.registered.type': 'sql',
          'dependencies.registered.query': "SELECT 1 FROM document_domain WHERE document_id = :id AND domain = 'acme'",
          'destination.type': 'jdbc',
          'destination.table': 'document_out',
          'ledger.table': 'sink_ledger',
          'park.table': 'sink_parked',
          'park.check.interval.ms': '200',
          'park.retry.initial.ms': '100',
          'park.retry.max.ms': '500',
        },
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);

    // Status every 250 ms for the whole run: a FAILED state at any moment fails the test.
    const watcher = watchForFailures(worker!.url, name);

    // Writers: each change commits in the origin first, then its event goes to Kafka (as a source would emit it).
    // While the database is down the commits fail and the writers wait; replays of versions already sent and a
    // resend of every document's current version ride along.
    const sentVersion = new Map<number, bigint>();
    let writing = true;
    let commits = 0;
    let failedCommits = 0;
    const writer = async (seed: number) => {
      const next = seededRandom(seed);
      while (writing) {
        const id = 1 + (next() % DOCS);
        const rows = await sql<{ rev: string }>(
          `UPDATE document SET rev = rev + 1, title = 'doc ' || document_id || ' rev ' || (rev + 1)
             WHERE document_id = $1 RETURNING rev::text`,
          [id],
        ).catch(() => null);
        if (rows === null) {
          failedCommits++;
          await sleep(200);
          continue;
        }
        commits++;
        const version = BigInt(rows[0]!.rev);
        // Two writers may commit one document's versions in one order and send them in the other: the sink must
        // still end at the newest and never write an older one over it.
        if (version > (sentVersion.get(id) ?? 0n)) sentVersion.set(id, version);
        const replay = next() % 5 === 0 && version > 2n ? [{ id, version: version - 1n }] : [];
        await send([{ id, version }, ...replay]);
        await sleep(next() % 15);
      }
    };
    // Every document's first version, then the writers' changes.
    for (let id = 1; id <= DOCS; id++) sentVersion.set(id, 1n);
    await send([...sentVersion].map(([id, version]) => ({ id, version })));
    const writers = [writer(11), writer(29), writer(47)];

    await sleep(4_000);
    // A burst the sink is still working through when the database goes away.
    await send([...sentVersion].map(([id, version]) => ({ id, version })));
    await db.kill();
    const downAt = Date.now();
    // Halfway through, the tasks are restarted (an operator, a redeploy): new instances start while their database
    // is down, and must wait for it rather than fail.
    await sleep(DOWN_MS / 2);
    const restarted = await fetch(`${worker!.url}/connectors/${name}/restart?includeTasks=true`, { method: 'POST' });
    expect(restarted.status).toBeLessThan(300);
    await sleep(DOWN_MS / 2);
    await db.start();
    const upAfterMs = Date.now() - downAt;
    await sleep(3_000);
    for (const id of LATE) await sql(`INSERT INTO document_domain VALUES ($1, 'acme')`, [id]);
    await sleep(3_000);
    writing = false;
    await Promise.all(writers);
    expect(commits).toBeGreaterThan(50);
    expect(failedCommits, 'the writers saw the outage').toBeGreaterThan(0);

    // Every document at its origin state, with the newest version sent for it.
    const origin = new Map(
      (
        await sql<{ document_id: number; title: string; rev: string }>(
          'SELECT document_id, title, rev::text FROM document',
        )
      ).map((r) => [r.document_id, r]),
    );
    let out: Array<{ document_id: number; title: string; rev: string; version: string }> = [];
    await waitFor(
      async () => {
        out = await sql('SELECT document_id, title, rev::text, erpstream_version::text AS version FROM document_out');
        return (
          out.length === DOCS &&
          out.every(
            (o) =>
              o.rev === origin.get(o.document_id)!.rev && o.version === String(sentVersion.get(o.document_id) ?? 1n),
          )
        );
      },
      120_000,
      'every document delivered at its newest version',
    ).catch(() => null);
    const failures = await watcher.stop();

    const stale = out
      .filter((o) => o.rev !== origin.get(o.document_id)!.rev || o.version !== String(sentVersion.get(o.document_id)))
      .map((o) => `${o.document_id}: rev ${o.rev} v${o.version}, origin rev ${origin.get(o.document_id)!.rev}`);
    if (process.env.ERPSTREAM_FAULT_LOG) {
      const status = await (await fetch(`${worker!.url}/connectors/${name}/status`)).text();
      const { writeFile } = await import('node:fs/promises');
      await writeFile(process.env.ERPSTREAM_FAULT_LOG, [status, ...log].join('\n'));
    }
    const missing = [...origin.keys()].filter((id) => !out.some((o) => o.document_id === id));
    expect({ missing, stale }, `outage of ${upAfterMs} ms`).toEqual({ missing: [], stale: [] });
    expect(out.every((o) => o.title === origin.get(o.document_id)!.title)).toBe(true);

    // No write went back to an older version, none repeated one.
    const history = await sql<{ document_id: number; rev: string; version: string }>(
      'SELECT document_id, rev::text, version::text FROM document_out_history ORDER BY n',
    );
    const last = new Map<number, { rev: bigint; version: bigint }>();
    const backwards: string[] = [];
    for (const h of history) {
      const before = last.get(h.document_id);
      const now = { rev: BigInt(h.rev), version: BigInt(h.version) };
      if (before && (now.version <= before.version || now.rev < before.rev)) {
        backwards.push(`${h.document_id}: v${before.version} rev ${before.rev} → v${now.version} rev ${now.rev}`);
      }
      last.set(h.document_id, now);
    }
    expect(backwards).toEqual([]);
    expect((await sql<{ n: number }>('SELECT count(*)::int AS n FROM sink_parked'))[0]!.n).toBe(0);
    expect(failures).toEqual([]);
  }, 600_000);
});

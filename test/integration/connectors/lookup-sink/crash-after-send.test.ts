import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Destination, LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { sinkRecord, testContext } from './harness.js';
import { registeredDocuments } from './registrations.js';

// A worker killed after the destination took a delivery and before the ledger recorded it (task.ts: send() then
// record()), replayed after the registration that caused the delivery was removed. The replay decides from the
// origin as it is now: the customer is not wanted any more, so nothing is sent to it; only a withdrawal would take
// back what the killed worker sent. Found by randomized.test.ts (an http customer kept a document it lost).
const sfx = uniqueSuffix();
const docs = registeredDocuments(`ls_crash_send_${sfx}`);
const { schema, docTopic } = docs;
let db: pg.Client;
let server: Server;
let baseUrl: string;
/** What the receiver holds per path and id: the last request's method. */
const last = new Map<string, string>();

function props(name: string): Record<string, string> {
  return {
    ...docs.lookupProps(),
    'destination.type': 'http',
    'destination.name': name,
    'destination.url': `${baseUrl}/hooks/\${domain}`,
    'destination.http.retry.initial.ms': '10',
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      last.set(`${req.url}|${String(req.headers['x-erpstream-id'])}`, req.method ?? '');
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  db = new pg.Client({ connectionString: requireEnv('PG_URL') });
  await db.connect();
  await docs.create(db);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await docs.drop(db);
  await db.end();
});

/** A worker process's task: `crashAfterSend` makes it die (throw) right after its destination took a delivery. */
async function worker(name: string, crashAfterSend: boolean): Promise<LookupSinkTask> {
  const wrap = (d: Destination): Destination => ({
    targetOf: (row, id) => d.targetOf(row, id),
    async deliver(items) {
      const refused = await d.deliver(items);
      if (crashAfterSend) throw new Error('killed after the send, before the ledger write');
      return refused;
    },
    remove: (items) => d.remove(items),
    close: () => d.close(),
  });
  const task = new LookupSinkTask({ wrapDestination: wrap });
  task.initialize(testContext({ dlq: [] }));
  await task.start(props(name));
  return task;
}

describe('LookupSink: a kill between the send and the ledger write', () => {
  // The entity's ledger entry before the killed batch: held by c2 (the new target is added to it), or none (the
  // killed batch was its first delivery, released from the park).
  for (const before of ['held elsewhere', 'never delivered'] as const) {
    it(`a replay after the registration is gone withdraws what the killed worker sent (${before})`, async () => {
      const id = before === 'held elsewhere' ? 1 : 2;
      const name = `h${id}_${sfx}`;
      let offset = 0n;
      const reg = (c: string) => docs.registered(offset++, id, c);
      const unreg = (c: string) => docs.unregistered(() => offset++, id, c);
      await db.query(`INSERT INTO ${schema}.document VALUES ($1, 't1')`, [id]);
      const docRecord = sinkRecord({ topic: docTopic, offset: offset++, key: { document_id: id }, version: 1001n });
      const first = await worker(name, false);
      if (before === 'held elsewhere') {
        await db.query(`INSERT INTO ${schema}.document_domain VALUES ($1, 'c2')`, [id]);
        await first.put([reg('c2'), docRecord]);
      } else {
        await first.put([docRecord]); // waits (parked): registered to nobody
      }
      await first.flush();
      await first.stop();

      // Registered to c0; the worker delivers to c0 and is killed before its ledger write.
      await db.query(`INSERT INTO ${schema}.document_domain VALUES ($1, 'c0')`, [id]);
      const registered = reg('c0');
      const killed = await worker(name, true);
      await expect(killed.put([registered])).rejects.toThrow(/killed/);
      await killed.stop();
      expect(last.get(`/hooks/c0|${id}`)).toBe('POST');

      // c0 loses the registration before the restarted worker replays the batch.
      await db.query(`DELETE FROM ${schema}.document_domain WHERE document_id = $1 AND domain = 'c0'`, [id]);
      const removed = unreg('c0');
      const restarted = await worker(name, false);
      try {
        await restarted.put([registered]);
        await restarted.put(removed);
        await restarted.flush();
      } finally {
        await restarted.stop();
      }
      expect(last.get(`/hooks/c0|${id}`), 'c0 no longer holds the document').toBe('DELETE');
      if (before === 'held elsewhere') expect(last.get(`/hooks/c2|${id}`)).toBe('POST');
    });
  }

  it('a replay after the origin row is gone deletes what the killed worker sent (its first delivery)', async () => {
    const id = 3;
    const name = `h${id}_${sfx}`;
    await db.query(`INSERT INTO ${schema}.document VALUES ($1, 't1')`, [id]);
    await db.query(`INSERT INTO ${schema}.document_domain VALUES ($1, 'c0')`, [id]);
    const created = sinkRecord({ topic: docTopic, offset: 0n, key: { document_id: id }, version: 1001n });
    const killed = await worker(name, true);
    await expect(killed.put([created])).rejects.toThrow(/killed/);
    await killed.stop();
    expect(last.get(`/hooks/c0|${id}`)).toBe('POST');

    await db.query(`DELETE FROM ${schema}.document WHERE document_id = $1`, [id]);
    const deleted = sinkRecord({ topic: docTopic, offset: 1n, key: { document_id: id }, version: 1002n });
    const restarted = await worker(name, false);
    try {
      await restarted.put([created, deleted]);
      await restarted.flush();
    } finally {
      await restarted.stop();
    }
    expect(last.get(`/hooks/c0|${id}`), 'c0 no longer holds the deleted document').toBe('DELETE');
  });
});

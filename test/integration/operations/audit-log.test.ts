import { afterAll, describe, expect, it } from 'vitest';
import { KafkaOperationsLog } from '../../../runtime/operations/audit-log.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { startTestWorker } from '../test-worker.js';

/**
 * The operations audit log on the real Kafka: durable across a worker restart, shared by workers that use the same
 * topic, and served at /erpstream/v1/operations with who made the request.
 */
describe('operations audit log (Kafka)', () => {
  const topic = `it-operations-${uniqueSuffix()}`;
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  });

  it('survives a restart, is shared by two logs on one topic, and the REST API filters it', async () => {
    const brokers = requireEnv('KAFKA_BROKERS').split(',');
    const a = new KafkaOperationsLog({ brokers, topic, replicationFactor: 1, worker: 'a:1' });
    closers.push(() => a.close());
    const op = await a.begin({
      kind: 'repair',
      customer: 'acme',
      connector: 'acme-sink',
      who: 'alice@h1',
      scope: { ids: 3 },
    });
    await a.progress(op.id, { delivered: 2 });
    await a.finish(op.id, { result: 'succeeded', counts: { delivered: 3, withdrawn: 1 } });
    await a.record({
      kind: 'redrive',
      customer: 'globex',
      connector: 'globex-sink',
      who: 'bob',
      result: 'failed',
      message: 'x',
    });
    // A second worker left one running when it died: at its next start (same id) it is marked interrupted.
    const dead = new KafkaOperationsLog({ brokers, topic, replicationFactor: 1, worker: 'b:2' });
    const left = await dead.begin({ kind: 'replay', customer: 'acme', who: 'carol', scope: { since: '5' } });
    await dead.close();

    const { worker } = await startTestWorker('ops', {
      'operations.storage.topic': topic,
      'operations.storage.replication.factor': '1',
    });
    closers.push(() => worker.stop());
    const get = async (q: string) => {
      const res = await fetch(`${worker.url}/erpstream/v1/operations${q}`, {
        headers: { 'x-erpstream-user': 'dave@laptop' },
      });
      return {
        status: res.status,
        body: (await res.json()) as { operations?: Array<Record<string, unknown>> } & Record<string, unknown>,
      };
    };
    const all = await get('');
    expect(all.status).toBe(200);
    const ids = all.body.operations!.map((e) => e.id);
    expect(ids).toContain(op.id);
    expect(ids).toContain(left.id);
    const acme = await get('?customer=acme&kind=repair');
    expect(acme.body.operations).toHaveLength(1);
    expect(acme.body.operations![0]).toMatchObject({
      id: op.id,
      kind: 'repair',
      customer: 'acme',
      connector: 'acme-sink',
      who: 'alice@h1',
      result: 'succeeded',
      counts: { delivered: 3, withdrawn: 1 },
      scope: { ids: 3 },
      worker: 'a:1',
    });
    expect(typeof acme.body.operations![0]!.finishedAt).toBe('string');
    expect((await get('?kind=nope')).status).toBe(400);
    expect((await get('?limit=0')).status).toBe(400);
    expect((await get('?limit=1')).body.operations).toHaveLength(1);
    const one = await fetch(`${worker.url}/erpstream/v1/operations/${op.id}`);
    expect(one.status).toBe(200);
    const missing = await fetch(`${worker.url}/erpstream/v1/operations/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error_code: 404 });

    const again = new KafkaOperationsLog({ brokers, topic, replicationFactor: 1, worker: 'b:2' });
    closers.push(() => again.close());
    expect((await again.get(left.id))?.result).toBe('interrupted');
    // Written by one log, seen by another at once (read to the end before answering).
    const fresh = await again.record({ kind: 'reconcile', customer: 'acme', who: 'x', result: 'succeeded' });
    expect((await a.get(fresh.id))?.kind).toBe('reconcile');
  }, 120_000);
});

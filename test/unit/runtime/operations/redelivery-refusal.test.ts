import { describe, expect, it } from 'vitest';
import { parseLookupSinkConfig } from '../../../../connectors/lookup-sink/config.js';
import { redeliveryRefusal, tasksMaxOf } from '../../../../connectors/lookup-sink/redelivery.js';
import type { RedeliveryAdmin, RedeliveryHook } from '../../../../runtime/api/index.js';
import { MemoryOperationsLog } from '../../../../runtime/operations/audit-log.js';
import { httpStatusOf } from '../../../../runtime/rest/error-status.js';
import { RedeliveryError, checkRedeliverable, startRedelivery } from '../../../../runtime/operations/redelivery.js';
import type { Herder } from '../../../../runtime/worker/herder-types.js';

// A connector that must not re-deliver (a Kafka destination with tasks.max > 1: see redelivery.ts) fails the whole
// operation with 400 before anything is queued for the customer's other connectors, and the audit entry says why.

const sink = (extra: Record<string, string>): Record<string, string> => ({
  'connector.class': 'LookupSink',
  topics: 'documents',
  'lookup.connection.url': 'postgresql://u@127.0.0.1:1/db',
  'lookup.query': 'SELECT id, rev FROM doc WHERE id IN (:ids)',
  'lookup.key.columns': 'id',
  'entity.name': 'document',
  'destination.name': 'acme',
  ...extra,
});

describe('re-delivery refusal', () => {
  it('only a Kafka destination with more than one task is refused', () => {
    const kafka = parseLookupSinkConfig(sink({ 'destination.type': 'kafka', 'destination.topic': 'acme.docs' }));
    expect(redeliveryRefusal(kafka, 1)).toBeNull();
    expect(redeliveryRefusal(kafka, 2)).toMatchObject({
      code: 'LOOKUP_SINK_REDELIVERY_UNSAFE',
      message: expect.stringContaining('tasks.max=2'),
    });
    const jdbc = parseLookupSinkConfig(
      sink({ 'destination.type': 'jdbc', 'destination.table': 'acme_docs', 'destination.version.column': 'v' }),
    );
    expect(redeliveryRefusal(jdbc, 4)).toBeNull();
    expect(tasksMaxOf({})).toBe(1);
    expect(tasksMaxOf({ 'tasks.max': '3' })).toBe(3);
    expect(tasksMaxOf({ 'tasks.max': 'x' })).toBe(1);
  });

  it('a refusing connector fails the operation with 400 before any connector queues anything', async () => {
    const submitted: string[] = [];
    const closed: string[] = [];
    const hook =
      (refused: boolean): RedeliveryHook =>
      async ({ connector }) =>
        ({
          refusal: refused ? { code: 'LOOKUP_SINK_REDELIVERY_UNSAFE', message: 'tasks.max=2 and Kafka' } : null,
          submit: async () => {
            submitted.push(connector);
            return { requestId: 'r', resumed: false, queued: 1, alreadyQueued: 0 };
          },
          progress: async () => {
            throw new Error('not reached');
          },
          deliveredSince: async function* () {},
          close: async () => {
            closed.push(connector);
          },
        }) satisfies RedeliveryAdmin;
    const herder = { services: () => ({ resolveConfig: async (c: Record<string, string>) => c }) } as unknown as Herder;
    const operations = new MemoryOperationsLog('w:1');
    const work = [
      { name: 'acme-jdbc', refused: false },
      { name: 'acme-kafka', refused: true },
    ].map((c) => ({
      connector: { name: c.name, config: {}, hook: hook(c.refused) },
      requestKey: 'k',
      items: () => [[{ entityId: '1', action: 'deliver' as const }]],
    }));
    const run = startRedelivery({
      herder,
      operations,
      kind: 'repair',
      customer: 'acme',
      who: 'u',
      scope: {},
      work,
    });
    await expect(run).rejects.toBeInstanceOf(RedeliveryError);
    expect(httpStatusOf(await run.catch((e: unknown) => e))).toBe(400);
    await expect(run).rejects.toMatchObject({
      code: 'ERPSTREAM_REDELIVERY_REFUSED',
      message: expect.stringMatching(/acme-kafka: .*LOOKUP_SINK_REDELIVERY_UNSAFE/),
    });
    expect(submitted).toEqual([]);
    expect(closed.sort()).toEqual(['acme-jdbc', 'acme-kafka']);
    // reconcile --repair asks the same before it reconciles; every admin it opened is closed again.
    closed.length = 0;
    await expect(checkRedeliverable(herder, [work[0]!.connector])).resolves.toBeUndefined();
    await expect(
      checkRedeliverable(
        herder,
        work.map((w) => w.connector),
      ),
    ).rejects.toMatchObject({
      code: 'ERPSTREAM_REDELIVERY_REFUSED',
      message: expect.stringContaining('acme-kafka'),
    });
    expect(closed).toEqual(['acme-jdbc', 'acme-jdbc', 'acme-kafka']);
    expect(submitted).toEqual([]);
    const [entry] = await operations.list({ customer: 'acme' });
    expect(entry).toMatchObject({ kind: 'repair', result: 'failed', message: expect.stringContaining('tasks.max') });
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SinkOffsetTracker } from '../../../../runtime/worker/sink-offsets.js';
import { waitFor } from './fake-kafka.js';
import { type Harness, startHarness } from './harness.js';
import { holding, testRegistry } from './test-plugins.js';

const tp = { topic: 't', partition: 0 };

/** What the tracker would commit when the task vouches for `safe` (undefined: the task left tp out). */
function commitWith(tracker: SinkOffsetTracker, safe: bigint | undefined): bigint | undefined {
  const current = tracker.current([tp]);
  const [key] = current.keys();
  const answer = new Map(safe === undefined ? [] : [[key!, safe]]);
  const { offsets } = tracker.committable(current, answer);
  tracker.committed(offsets);
  return offsets[0]?.offset;
}

describe('SinkOffsetTracker', () => {
  it('commits to the end when every record was dropped, even if the task vouches for nothing', () => {
    const t = new SinkOffsetTracker();
    for (let o = 0n; o < 5n; o++) t.dropped('t', 0, o);
    expect(commitWith(t, undefined)).toBe(5n);
    expect(t.hasUncommitted()).toBe(false);
  });

  it('keeps partitions apart when batches alternate, and forgets a revoked partition that then comes back', () => {
    const t = new SinkOffsetTracker();
    const a = { topic: 't', partition: 0 };
    const b = { topic: 't', partition: 1 };
    t.put('t', 0, 0n);
    t.put('t', 0, 1n);
    t.dropped('t', 1, 10n);
    t.put('t', 0, 2n);
    expect([...t.current([a, b]).values()]).toEqual([3n, 11n]);
    t.retain([b]); // partition 0 moved away; its records come back from the group's offset 1
    t.put('t', 0, 1n);
    const current = t.current([a, b]);
    expect([...current.values()]).toEqual([2n, 11n]);
    const { offsets } = t.committable(current, new Map());
    // Nothing of partition 0 is vouched for (its state starts at 1, the group's offset); partition 1 moves to 11.
    expect(offsets).toEqual([{ topic: 't', partition: 1, offset: 11n }]);
  });

  it('after a rewind commits the rewound offset, even below what was committed, and continues from there', () => {
    const t = new SinkOffsetTracker();
    for (let o = 0n; o < 8n; o++) t.put('t', 0, o);
    expect(commitWith(t, 8n)).toBe(8n);
    t.rewind('t', 0, 3n);
    expect(t.hasUncommitted()).toBe(true);
    expect(commitWith(t, undefined)).toBe(3n); // a restart now resumes at 3
    t.put('t', 0, 3n);
    t.put('t', 0, 4n);
    expect(commitWith(t, undefined)).toBeUndefined(); // 3 and 4 are not vouched for yet
    expect(commitWith(t, 5n)).toBe(5n);
  });

  it('never commits past a put() record the task has not reported done, however many drops follow it', () => {
    const t = new SinkOffsetTracker();
    t.dropped('t', 0, 0n);
    t.put('t', 0, 1n);
    t.put('t', 0, 2n);
    for (let o = 3n; o < 10n; o++) t.dropped('t', 0, o);
    // The task vouches for nothing yet: only the dropped record before it is done.
    expect(commitWith(t, undefined)).toBe(1n);
    // Record 1 done, 2 not: the drops after 2 wait.
    expect(commitWith(t, 2n)).toBe(2n);
    expect(commitWith(t, 2n)).toBeUndefined(); // unchanged: nothing to commit again
    expect(t.hasUncommitted()).toBe(true);
    expect(commitWith(t, 3n)).toBe(10n);
    expect(t.hasUncommitted()).toBe(false);
  });

  it('moves past the dropped records once the put() records before them are done', () => {
    const t = new SinkOffsetTracker();
    t.put('t', 0, 0n);
    t.dropped('t', 0, 1n);
    t.put('t', 0, 2n);
    t.dropped('t', 0, 3n);
    t.dropped('t', 0, 4n);
    expect(commitWith(t, 1n)).toBe(2n); // 0 done, 1 dropped, 2 pending
    expect(commitWith(t, 3n)).toBe(5n); // 2 done: 3 and 4 were dropped
  });

  it('ignores a task offset beyond what was consumed, as Connect does', () => {
    const t = new SinkOffsetTracker();
    t.put('t', 0, 0n);
    const current = t.current([tp]);
    const [key] = current.keys();
    const { offsets, ignored } = t.committable(current, new Map([[key!, 99n]]));
    expect(offsets).toEqual([]);
    expect(ignored).toEqual([{ topic: 't', partition: 0, offset: 99n }]);
  });

  it('starts over when the consumer goes back (a partition that came back after a rebalance)', () => {
    const t = new SinkOffsetTracker();
    t.put('t', 0, 5n);
    t.put('t', 0, 6n);
    t.dropped('t', 0, 3n);
    expect(commitWith(t, undefined)).toBe(4n);
  });
});

describe('sink task offsets in the worker (in-memory Kafka)', () => {
  let h: Harness;
  beforeEach(async () => {
    holding.put = [];
    holding.records = [];
    holding.held = [];
    holding.partitionEvents = [];
    h = await startHarness({}, { registry: testRegistry() });
  });
  afterEach(async () => {
    await h.worker.stop();
  });

  const committed = (connector: string) => h.kafka.groups.get(`connect-${connector}`)?.get('shared');
  const append = (value: string, other = false) =>
    h.kafka.append('shared', { key: null, value: Buffer.from(value), headers: other ? [['other', null]] : [] });
  const skipOthers = {
    transforms: 'skip',
    'transforms.skip.type': 'Filter',
    'transforms.skip.predicate': 'isOther',
    predicates: 'isOther',
    'predicates.isOther.type': 'HasHeaderKey',
    'predicates.isOther.name': 'other',
  };

  it('a topic whose records are all filtered out is committed to its end', async () => {
    for (let i = 0; i < 20; i++) append(`r${i}`, true);
    const r = await h.req('POST', '/connectors', {
      name: 'mine',
      config: { 'connector.class': 'HoldingSink', topics: 'shared', ...skipOthers },
    });
    expect(r.status).toBe(201);
    await waitFor(() => committed('mine') === 20n, 5000, 'committed offset 20');
    expect(holding.put).toEqual([]);
  });

  it('filtered records after a record the task still holds stay uncommitted until it is done', async () => {
    append('r0');
    append('hold-1');
    for (let i = 2; i < 10; i++) append(`r${i}`, true);
    await h.req('POST', '/connectors', {
      name: 'mine',
      config: { 'connector.class': 'HoldingSink', topics: 'shared', ...skipOthers },
    });
    await waitFor(() => committed('mine') === 1n, 5000, 'committed offset 1');
    // Several commit intervals (50 ms) later it has not moved past the held record.
    await new Promise((r) => setTimeout(r, 300));
    expect(committed('mine')).toBe(1n);
    expect(holding.put).toEqual(['r0', 'hold-1']);
    // Released with no new record: the periodic commit covers it and the filtered records after it.
    holding.held = [];
    await waitFor(() => committed('mine') === 10n, 5000, 'committed offset 10');
  });

  it("never commits a partition after a rebalance moved it to another member (the new owner's offset stays)", async () => {
    append('r0');
    append('hold-1');
    append('r2');
    await h.req('POST', '/connectors', {
      name: 'mine',
      config: { 'connector.class': 'HoldingSink', topics: 'shared' },
    });
    await waitFor(() => committed('mine') === 1n, 5000, 'committed offset 1');
    expect(holding.partitionEvents).toEqual(['open shared-0']);

    // The partition moves to another member, which processes what follows too and commits 5.
    h.kafka.reassign('connect-mine', []);
    append('r3');
    append('r4');
    h.kafka.groups.get('connect-mine')!.set('shared', 5n);
    await waitFor(() => holding.partitionEvents.length === 2, 5000, 'close');
    expect(holding.partitionEvents).toEqual(['open shared-0', 'close shared-0']);
    // This task finishes its held record late: its periodic commit (3) must not set the new owner's 5 back.
    holding.held = [];
    await new Promise((r) => setTimeout(r, 300));
    expect(committed('mine')).toBe(5n);
    const status = await h.req('GET', '/connectors/mine/status');
    expect(status.body.tasks[0].state).toBe('RUNNING');

    // It comes back: read again from the group's offset, then committed as usual.
    append('r5');
    h.kafka.reassign('connect-mine', ['shared']);
    await waitFor(() => committed('mine') === 6n, 5000, 'committed offset 6');
    expect(holding.partitionEvents).toEqual(['open shared-0', 'close shared-0', 'open shared-0']);
    expect(holding.put.slice(-2)).toEqual(['r2', 'r5']);
  });

  it("a sink task's consumer fetches with the connector's consumer.override.* fetch sizes; a bad one is a 400", async () => {
    const r = await h.req('POST', '/connectors', {
      name: 'big',
      config: {
        'connector.class': 'HoldingSink',
        topics: 'shared',
        'consumer.override.max.partition.fetch.bytes': '8388608',
        'consumer.override.fetch.max.wait.ms': '50',
      },
    });
    expect(r.status).toBe(201);
    await waitFor(() => h.kafka.consumerFetch.has('connect-big'), 5000, "the sink task's consumer");
    expect(h.kafka.consumerFetch.get('connect-big')).toEqual({ maxBytesPerPartition: 8_388_608, maxWaitTimeInMs: 50 });
    const bad = await h.req('POST', '/connectors', {
      name: 'bad',
      config: { 'connector.class': 'HoldingSink', topics: 'shared', 'consumer.override.fetch.max.bytes': '10MB' },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('consumer.override.fetch.max.bytes');
  });
});

import { describe, expect, it } from 'vitest';
import { parseLookupSinkConfig } from '../../../../connectors/lookup-sink/config.js';
import { nextRedeliveryWaitMs, redeliveryQueuedBus } from '../../../../connectors/lookup-sink/redelivery.js';

describe('re-delivery queue pacing', () => {
  const o = { pollIntervalMs: 1_000, pollIntervalMaxMs: 10_000 };

  it('an idle task backs off from redelivery.poll.interval.ms to redelivery.poll.interval.max.ms', () => {
    const waits: number[] = [];
    let w = o.pollIntervalMs;
    for (let i = 0; i < 6; i++) waits.push((w = nextRedeliveryWaitMs(w, false, o)));
    expect(waits).toEqual([2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
  });

  it('work found (or a failed look) brings the next look back to redelivery.poll.interval.ms', () => {
    expect(nextRedeliveryWaitMs(10_000, true, o)).toBe(1_000);
  });

  it('never waits less than redelivery.poll.interval.ms, whatever the max', () => {
    expect(nextRedeliveryWaitMs(1_000, false, { pollIntervalMs: 1_000, pollIntervalMaxMs: 10 })).toBe(1_000);
  });

  it('the max defaults to 10 s and is raised to the interval when set lower', () => {
    const base = {
      'lookup.connection.url': 'postgresql://u@h/db',
      'lookup.table': 'public.document',
      'lookup.key.columns': 'document_id',
      'entity.name': 'document',
      'destination.type': 'kafka',
      'destination.name': 'docs',
      'destination.topic': 'docs',
    };
    expect(parseLookupSinkConfig(base).redelivery.pollIntervalMaxMs).toBe(10_000);
    const low = parseLookupSinkConfig({
      ...base,
      'redelivery.poll.interval.ms': '20000',
      'redelivery.poll.interval.max.ms': '5000',
    });
    expect(low.redelivery.pollIntervalMaxMs).toBe(20_000);
  });

  it('a queued request wakes the subscribed tasks of that connector only', () => {
    const woken: string[] = [];
    const off = redeliveryQueuedBus.subscribe((c) => woken.push(c));
    redeliveryQueuedBus.publish('a');
    off();
    redeliveryQueuedBus.publish('b');
    expect(woken).toEqual(['a']);
  });
});

import { describe, expect, it } from 'vitest';
import { sleep, topicPartitionKey } from '../../../../runtime/api/index.js';

describe('sleep', () => {
  it('wakes at once when the stop signal aborts, instead of finishing the wait', async () => {
    const stop = new AbortController();
    const started = performance.now();
    const waiting = sleep(60_000, stop.signal);
    setTimeout(() => stop.abort(), 5);
    await waiting;
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('does not wait at all once already stopped', async () => {
    const stop = new AbortController();
    stop.abort();
    const started = performance.now();
    await sleep(60_000, stop.signal);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('waits the full time without a signal', async () => {
    const started = performance.now();
    await sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });
});

describe('topicPartitionKey', () => {
  it('keeps pairs apart whose digits and colons would collide in a joined text', () => {
    const keys = new Set([
      topicPartitionKey('a:1', 2),
      topicPartitionKey('a', 12),
      topicPartitionKey('a:12', 0),
      topicPartitionKey('1:a', 2),
      topicPartitionKey('a', 1),
    ]);
    expect(keys.size).toBe(5);
  });
});

import { describe, expect, it } from 'vitest';
import { RestartBackoff } from '../../../../runtime/worker/kafka-port.js';

describe('the delay before kafkajs restarts a crashed sink consumer', () => {
  it('doubles from 300 ms to at most 5 s, and starts over after a minute without a crash', () => {
    let now = 1_000_000;
    const b = new RestartBackoff(() => now);
    const delays = Array.from({ length: 8 }, () => {
      const d = b.next();
      now += d + 50;
      return d;
    });
    expect(delays).toEqual([300, 600, 1200, 2400, 4800, 5000, 5000, 5000]);
    now += 60_001;
    expect(b.next()).toBe(300);
    now += 59_000;
    expect(b.next()).toBe(600);
  });
});

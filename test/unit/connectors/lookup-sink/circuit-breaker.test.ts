import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../../connectors/lookup-sink/destinations/circuit-breaker.js';
import { RetriableError } from '../../../../runtime/api/index.js';

describe('CircuitBreaker', () => {
  it('opens after the threshold, fails fast, lets one trial through after the reset time, and closes on success', () => {
    let now = 0;
    const b = new CircuitBreaker('hook', 3, 1000, () => now);
    b.before();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(() => b.before()).toThrow(RetriableError);
    expect(() => b.before()).toThrow(/open \(retrying in 1000 ms\)/);
    now = 1000;
    expect(b.state).toBe('half-open');
    b.before(); // the trial
    expect(() => b.before()).toThrow(RetriableError); // only one trial at a time
    b.success();
    expect(b.state).toBe('closed');
    expect(b.opened).toBe(1);
  });

  it('reopens when the trial fails', () => {
    let now = 0;
    const b = new CircuitBreaker('hook', 1, 100, () => now);
    b.failure();
    now = 150;
    b.before();
    b.failure();
    expect(b.state).toBe('open');
    expect(b.opened).toBe(2);
    now = 200;
    expect(b.state).toBe('open');
    now = 250;
    expect(b.state).toBe('half-open');
  });

  it('a success resets the count of consecutive failures', () => {
    const b = new CircuitBreaker('hook', 2, 100, () => 0);
    b.failure();
    b.success();
    b.failure();
    expect(b.state).toBe('closed');
  });
});

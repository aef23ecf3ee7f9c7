import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PollPacer } from '../../../../connectors/erp-source/poll-pacer.js';

/** Runs `wait()` under fake timers and returns after how many (fake) ms it resolved, or null if it did not. */
async function waited(
  pacer: PollPacer,
  during: (at: (ms: number) => Promise<void>) => Promise<void>,
  signal?: AbortSignal,
) {
  const start = Date.now();
  let end: number | null = null;
  const p = pacer.wait(signal ?? new AbortController().signal).then(() => (end = Date.now()));
  const at = async (ms: number) => {
    await vi.advanceTimersByTimeAsync(start + ms - Date.now());
  };
  await during(at);
  await p.catch(() => {});
  return end === null ? null : end - start;
}

describe('PollPacer', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  const opts = { idleMs: 500, busyMs: 50, wakeGapMs: 10 };

  it('polls at once after a full batch, and first of all', async () => {
    const p = new PollPacer(opts);
    expect(await waited(p, (at) => at(0))).toBe(0);
    p.polled('full');
    expect(await waited(p, (at) => at(0))).toBe(0);
  });

  it('polls a busy stream every poll.interval.min.ms and backs an idle one off to poll.interval.ms', async () => {
    const p = new PollPacer(opts);
    const waits: number[] = [];
    for (const outcome of ['changes', 'changes', 'empty', 'empty', 'empty', 'empty', 'empty', 'changes'] as const) {
      p.polled(outcome);
      waits.push((await waited(p, (at) => at(600)))!);
    }
    expect(waits).toEqual([50, 50, 100, 200, 400, 500, 500, 50]);
  });

  it('never waits longer than poll.interval.ms, even when poll.interval.min.ms is larger', async () => {
    const p = new PollPacer({ idleMs: 20, busyMs: 50, wakeGapMs: 0 });
    p.polled('changes');
    expect(await waited(p, (at) => at(100))).toBe(20);
    p.polled('empty');
    expect(await waited(p, (at) => at(100))).toBe(20);
  });

  it('a notification ends the wait early, whatever the plan', async () => {
    const p = new PollPacer(opts);
    await waited(p, (at) => at(0));
    p.polled('empty');
    p.polled('empty');
    p.polled('empty'); // planned: 400 ms
    const ms = await waited(p, async (at) => {
      await at(120);
      p.wake();
      await at(600);
    });
    expect(ms).toBe(120);
  });

  it('folds a storm of notifications into one poll per notify.min.interval.ms', async () => {
    const p = new PollPacer({ idleMs: 30_000, busyMs: 30_000, wakeGapMs: 10 });
    const pollStarts: number[] = [];
    const t0 = Date.now();
    // 1,000 notifications/s for 100 ms; each poll takes 2 ms.
    const storm = setInterval(() => p.wake(), 1);
    const loop = (async () => {
      while (Date.now() - t0 < 100) {
        await p.wait(new AbortController().signal);
        pollStarts.push(Date.now() - t0);
        await new Promise((r) => setTimeout(r, 2));
        p.polled('changes');
      }
    })();
    await vi.advanceTimersByTimeAsync(100);
    clearInterval(storm);
    await vi.advanceTimersByTimeAsync(30_000);
    await loop;
    const inStorm = pollStarts.filter((t) => t < 100);
    expect(inStorm.length).toBeLessThanOrEqual(11);
    expect(inStorm.length).toBeGreaterThanOrEqual(8);
    for (let i = 1; i < inStorm.length; i++) expect(inStorm[i]! - inStorm[i - 1]!).toBeGreaterThanOrEqual(10);
  });

  it('a notification during a poll causes another poll after it (the commit may be after its snapshot)', async () => {
    const p = new PollPacer({ idleMs: 500, busyMs: 500, wakeGapMs: 10 });
    await waited(p, (at) => at(0)); // poll starts
    p.wake(); // commit notified while the poll reads
    await vi.advanceTimersByTimeAsync(30); // the poll takes 30 ms
    p.polled('empty');
    expect(await waited(p, (at) => at(600))).toBe(0);
    // …and once only: the next wait is the full interval again.
    p.polled('empty');
    expect(await waited(p, (at) => at(600))).toBe(500);
  });

  it('a notification right after a poll started waits out the gap, not the interval', async () => {
    const p = new PollPacer({ idleMs: 500, busyMs: 500, wakeGapMs: 40 });
    await waited(p, (at) => at(0));
    p.polled('empty'); // a 0 ms poll
    const ms = await waited(p, async (at) => {
      await at(5);
      p.wake();
      await at(600);
    });
    expect(ms).toBe(40);
  });

  it('notifications only shorten the plan: without them a busy stream is still polled every min interval', async () => {
    const p = new PollPacer({ idleMs: 30_000, busyMs: 50, wakeGapMs: 10 });
    p.polled('changes');
    expect(await waited(p, (at) => at(31_000))).toBe(50);
  });

  it('a stop ends the wait at once', async () => {
    const p = new PollPacer({ idleMs: 30_000, busyMs: 30_000, wakeGapMs: 10 });
    p.polled('empty');
    const stop = new AbortController();
    const ms = await waited(
      p,
      async (at) => {
        await at(5);
        stop.abort();
        await at(6);
      },
      stop.signal,
    );
    expect(ms).toBe(5);
  });
  describe('with the commit listener connected (notify.idle.interval.ms)', () => {
    const quiet = { idleMs: 500, busyMs: 50, wakeGapMs: 10, quietMs: 5_000 };
    const emptyWaits = async (p: PollPacer, n: number, timeDriven = false) => {
      const waits: number[] = [];
      for (let i = 0; i < n; i++) {
        p.polled('empty', timeDriven);
        waits.push((await waited(p, (at) => at(6_000)))!);
      }
      return waits;
    };

    it('backs an idle stream off beyond poll.interval.ms, up to the safety-net interval', async () => {
      const p = new PollPacer(quiet);
      p.listening(true);
      p.polled('changes');
      await waited(p, (at) => at(100));
      expect(await emptyWaits(p, 7)).toEqual([100, 200, 400, 800, 1_600, 3_200, 5_000]);
    });

    it('a commit after a long idle spell is still read as soon as it is notified', async () => {
      const p = new PollPacer(quiet);
      p.listening(true);
      await emptyWaits(p, 8);
      p.polled('empty');
      const ms = await waited(p, async (at) => {
        await at(4_000);
        p.wake();
        await at(6_000);
      });
      expect(ms).toBe(4_000);
    });

    it('without the listener an idle stream is polled every poll.interval.ms, as before', async () => {
      const p = new PollPacer(quiet);
      expect((await emptyWaits(p, 6)).slice(-2)).toEqual([500, 500]);
    });

    it('held gaps or watched numbers keep poll.interval.ms: their re-reads are due on time, not on a commit', async () => {
      const p = new PollPacer(quiet);
      p.listening(true);
      expect((await emptyWaits(p, 8, true)).slice(-3)).toEqual([500, 500, 500]);
      // Once they are settled the wait grows again.
      expect((await emptyWaits(p, 1))[0]).toBeGreaterThan(500);
    });

    it('losing the listener cuts a long wait short: an overdue poll starts at once, a fresh one after poll.interval.ms', async () => {
      const p = new PollPacer(quiet);
      p.listening(true);
      await emptyWaits(p, 8);
      p.polled('empty'); // planned: 5 s
      const overdue = await waited(p, async (at) => {
        await at(2_000);
        p.listening(false);
        await at(6_000);
      });
      expect(overdue).toBe(2_000);
      p.polled('empty');
      const fresh = await waited(p, async (at) => {
        await at(100);
        p.listening(false);
        await at(6_000);
      });
      expect(fresh).toBe(500);
    });

    it('never waits less than poll.interval.ms when idle, even if the safety net is set lower', async () => {
      const p = new PollPacer({ ...quiet, quietMs: 100 });
      p.listening(true);
      expect((await emptyWaits(p, 6)).slice(-2)).toEqual([500, 500]);
    });
  });
});

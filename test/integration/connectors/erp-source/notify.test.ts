import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../../../runtime/api/index.js';
import { listenStatement } from '../../../../connectors/erp-source/dialects/postgres-notify.js';
import { notifyChannel } from '../../../../connectors/erp-source/setup-sql.js';
import { CHANGE_TABLE, type DbFixture, TaskHarness, events, keyOf, pgFixture, sourceProps } from './harness.js';

/**
 * The PostgreSQL commit wake-up against the real server: the change table's NOTIFY trigger (setup-sql.ts) wakes a
 * task that would otherwise wait 30 s, a LISTEN connection killed by the server comes back without the task
 * noticing, and stopping the task leaves no LISTEN connection behind. Nothing is timed beyond "long before 30 s".
 */
const LONG_POLL = { 'poll.interval.ms': '30000', 'poll.interval.min.ms': '30000', 'snapshot.mode': 'never' };

describe('ErpSource PostgreSQL commit wake-up (LISTEN/NOTIFY)', () => {
  let db: DbFixture;
  let channel: string;
  let nextId = 1;

  beforeAll(async () => {
    db = await pgFixture();
    await db.createCaptured('item', 'id bigint PRIMARY KEY, name text');
    channel = notifyChannel(db.schema, CHANGE_TABLE);
  });
  afterAll(async () => {
    await db?.close();
  });

  /** Backends LISTENing on this test's channel (the listener's only statement is its LISTEN). */
  async function listeners(): Promise<number[]> {
    const rows = await db.exec(
      `SELECT pid FROM pg_stat_activity WHERE application_name = 'erpstream-source-listen' AND query = $1`,
      [listenStatement(channel)],
    );
    return rows.map((r) => Number(r.pid));
  }

  async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await read();
      if (ok(v) || Date.now() > deadline) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Starts a task that has taken its position and is now in its (30 s) wait before the next poll. */
  async function startedAndWaiting(extra: Record<string, string> = {}): Promise<TaskHarness> {
    const h = new TaskHarness(sourceProps(db, { ...LONG_POLL, ...extra }));
    await h.start();
    await h.poll(); // the first poll runs at once and takes the position
    return h;
  }

  /** Inserts a row once `poll` is waiting, and says whether the poll returned its event within `withinMs`. */
  async function insertWhileWaiting(h: TaskHarness, withinMs: number): Promise<SourceRecord[] | 'still waiting'> {
    const id = nextId++;
    const poll = h.poll();
    await new Promise((r) => setTimeout(r, 200));
    await db.exec(`INSERT INTO "${db.schema}".item VALUES ($1, 'x')`, [id]);
    let late = false;
    const got = await Promise.race([
      (async () => {
        const all: SourceRecord[] = [...(await poll)];
        while (!late && !events(all).some((r) => keyOf(r) === BigInt(id))) all.push(...(await h.poll()));
        return all;
      })(),
      new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), withinMs)),
    ]);
    late = true;
    return got;
  }

  it('delivers a commit long before the 30 s poll interval, and only because of the notification', async () => {
    const h = await startedAndWaiting();
    try {
      expect(await eventually(listeners, (l) => l.length === 1)).toHaveLength(1);
      const got = await insertWhileWaiting(h, 5_000);
      expect(got).not.toBe('still waiting');
    } finally {
      await h.stop();
    }
    // The same wait without the wake-up: the change sits there until the interval ends (the test above can fail).
    const off = await startedAndWaiting({ 'notify.enabled': 'false' });
    try {
      expect(await listeners()).toHaveLength(0);
      expect(await insertWhileWaiting(off, 2_000)).toBe('still waiting');
    } finally {
      await off.stop(); // ends the 30 s wait at once
    }
  });

  it('survives pg_terminate_backend of its LISTEN connection: polls on, listens again, is woken again', async () => {
    const h = await startedAndWaiting();
    try {
      const [first] = await eventually(listeners, (l) => l.length === 1);
      expect(first).toBeDefined();
      await db.exec('SELECT pg_terminate_backend($1)', [first]);
      const again = await eventually(listeners, (l) => l.length === 1 && l[0] !== first);
      expect(again).toHaveLength(1);
      expect(again[0]).not.toBe(first);
      // The task never saw an error, and the new connection wakes it as the first one did.
      expect(await insertWhileWaiting(h, 5_000)).not.toBe('still waiting');
      expect(h.logs.some((l) => l.level === 'warn' && l.msg.startsWith('Commit wake-up connection lost'))).toBe(true);
      expect(h.logs.some((l) => l.msg === 'Commit wake-up listening again')).toBe(true);
      // Nothing secret in what was logged about it.
      expect(JSON.stringify(h.logs)).not.toMatch(/postgres(ql)?:\/\/[^"]*:[^"@]*@/);
    } finally {
      await h.stop();
    }
  });

  it('backs an idle stream off past poll.interval.ms once a notification arrived, and still reads the next commit at once', async () => {
    const h = new TaskHarness(
      sourceProps(db, {
        'poll.interval.ms': '100',
        'poll.interval.min.ms': '50',
        'notify.idle.interval.ms': '60000',
        'snapshot.mode': 'never',
      }),
    );
    await h.start();
    try {
      await h.poll();
      expect(await eventually(listeners, (l) => l.length === 1)).toHaveLength(1);
      // Listening, but no notification has proved delivery yet (a pooling proxy would swallow them): the task
      // keeps polling every poll.interval.ms. 3 s of that is ~30 polls; trusting the listener would make it ≤ 7.
      let untrusted = 0;
      const until = Date.now() + 3_000;
      while (Date.now() < until) {
        await h.poll();
        untrusted++;
      }
      expect(untrusted).toBeGreaterThanOrEqual(12);
      // A first commit proves that notifications are delivered on this path.
      expect(await insertWhileWaiting(h, 5_000)).not.toBe('still waiting');
      // 4 s of nothing: at poll.interval.ms that would be ~40 polls; backing off (100, 200, 400 … ms) takes ≤ 8.
      let polls = 0;
      const idleUntil = Date.now() + 4_000;
      while (Date.now() < idleUntil) {
        expect(events(await h.poll())).toEqual([]);
        polls++;
      }
      expect(polls).toBeLessThanOrEqual(8);
      // The next wait is seconds long (the safety net is 60 s): the commit is read because it was notified.
      expect(await insertWhileWaiting(h, 5_000)).not.toBe('still waiting');
    } finally {
      await h.stop();
    }
  });

  it('closes its LISTEN connection on stop, across repeated stops and starts (rebalances)', async () => {
    for (let i = 0; i < 4; i++) {
      const h = await startedAndWaiting();
      expect(await eventually(listeners, (l) => l.length === 1)).toHaveLength(1);
      await h.stop();
      expect(await eventually(listeners, (l) => l.length === 0, 3_000)).toEqual([]);
    }
    // A stop while the listener is still connecting leaves nothing either.
    const quick = new TaskHarness(sourceProps(db, LONG_POLL));
    await quick.start();
    await quick.stop();
    expect(await eventually(listeners, (l) => l.length === 0, 3_000)).toEqual([]);
  });

  it('without the NOTIFY trigger: no LISTEN connection, one log line with the SQL to add it, changes still read', async () => {
    await db.exec(`DROP TRIGGER "${CHANGE_TABLE}_erpstream_notify" ON "${db.schema}"."${CHANGE_TABLE}"`);
    const h = new TaskHarness(sourceProps(db, { 'poll.interval.ms': '100', 'snapshot.mode': 'never' }));
    await h.start();
    try {
      await h.poll();
      expect(await listeners()).toHaveLength(0);
      const hints = h.logs.filter((l) => l.msg.startsWith('No commit wake-up'));
      expect(hints).toHaveLength(1);
      expect(String(hints[0]!.fields?.sql)).toContain(`pg_notify('${channel}', '')`);
      const id = nextId++;
      await db.exec(`INSERT INTO "${db.schema}".item VALUES ($1, 'y')`, [id]);
      const all = await h.pollUntil((rs) => events(rs).some((r) => keyOf(r) === BigInt(id)), 10_000);
      expect(events(all).length).toBeGreaterThan(0);
      expect(h.logs.filter((l) => l.msg.startsWith('No commit wake-up'))).toHaveLength(1);
    } finally {
      await h.stop();
    }
  });
});

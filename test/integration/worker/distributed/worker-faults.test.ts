import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Consumer, createConsumer, createKafka } from '../../../../runtime/kafka/index.js';
import { type DbFixture, pgFixture } from '../../connectors/erp-source/harness.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { readTopic } from '../../../support/topics.js';
import {
  type WorkerProcess,
  killWorker,
  rest,
  startDistributedWorkers,
  startWorker,
  stopWorker,
  waitFor,
} from '../../../support/worker.js';

/**
 * Distributed mode under worker SIGKILLs, on the real stack: three worker processes run an ErpSource on PostgreSQL
 * (an initial snapshot, then changes streamed while sessions commit out of order), workers are SIGKILLed at random
 * moments and started again, and the topics are checked against the database under read_committed: nothing lost,
 * nothing out of order, and — with exactly-once — nothing duplicated, snapshot rows included. No task may need a
 * manual restart. Also: creating, changing and deleting one connector never stops another's tasks.
 *
 * CI runs ERPSTREAM_FAULT_KILLS (default 2) kills per mode; scale up with e.g. ERPSTREAM_FAULT_KILLS=10.
 */

const brokers = requireEnv('KAFKA_BROKERS');
const KILLS = Number(process.env.ERPSTREAM_FAULT_KILLS ?? 2);
const TABLES = ['orders', 'parcels', 'invoices'];
const SNAPSHOT_ROWS = 10_000;

interface Status {
  connector: { state: string; worker_id: string };
  tasks: Array<{ id: number; state: string; worker_id: string; trace?: string }>;
}

interface Event {
  topic: string;
  key: string;
  id: number;
  v: number | null;
  version: bigint;
  eventId: string;
  arrived: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const random = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

/** Follows topics under read_committed, keeping every event with its arrival time. */
async function follow(topics: string[]): Promise<{ events: Event[]; consumer: Consumer }> {
  const kafka = createKafka({ brokers, clientId: 'it-faults-follow', logLevel: 'nothing' });
  const consumer = createConsumer(kafka, { groupId: `it-faults-${uniqueSuffix()}` });
  const events: Event[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const arrived = Date.now();
      for (const m of batch.messages) {
        if (m.value === null) continue;
        const header = (k: string) => m.headers?.[k]?.toString() ?? '';
        const value = JSON.parse(m.value.toString('utf8')) as { after: { id: number; v: number } | null };
        const key = m.key!.toString('utf8');
        events.push({
          topic: batch.topic,
          key,
          id: (JSON.parse(key) as { id: number }).id,
          v: value.after?.v ?? null,
          version: BigInt(header('erpstream.version') || '0'),
          eventId: header('erpstream.event.id'),
          arrived,
        });
      }
    },
  });
  return { events, consumer };
}

/** Changes at a steady pace from two sessions whose transactions overlap, so commits come out of sequence order. */
function writeChanges(db: DbFixture, schema: string): { stop(): Promise<number> } {
  let running = true;
  let changes = 0;
  let nextId = SNAPSHOT_ROWS + 1;
  const session = async (slow: boolean) => {
    const s = await db.session();
    try {
      while (running) {
        const table = TABLES[Math.floor(Math.random() * TABLES.length)]!;
        await s.exec('BEGIN');
        const ids = Array.from({ length: 5 }, () => 1 + Math.floor(Math.random() * (nextId - 1)));
        for (const id of ids) await s.exec(`UPDATE "${schema}"."${table}" SET v = v + 1 WHERE id = $1`, [id]);
        await s.exec(`INSERT INTO "${schema}"."${table}" (id, v) VALUES ($1, 0)`, [nextId++]);
        // The slow session holds its transaction open while the other commits later sequence numbers.
        if (slow) await sleep(random(20, 120));
        await s.exec('COMMIT');
        changes += ids.length + 1;
        await sleep(slow ? 5 : 25);
      }
    } finally {
      await s.close();
    }
  };
  const sessions = [session(true), session(false)];
  return {
    async stop() {
      running = false;
      await Promise.all(sessions);
      return changes;
    },
  };
}

interface Counts {
  events: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
}

/** Lost: a row whose final state is not the last event of its key. Duplicate: an event id seen twice per key. */
async function count(db: DbFixture, schema: string, prefix: string, events: Event[]): Promise<Counts> {
  const out: Counts = { events: events.length, lost: 0, duplicated: 0, outOfOrder: 0 };
  for (const table of TABLES) {
    const topic = `${prefix}.${schema}.${table}`;
    const rows = await db.exec(`SELECT id, v FROM "${schema}"."${table}"`);
    const last = new Map<number, Event>();
    const seen = new Set<string>();
    const highest = new Map<number, bigint>();
    for (const e of events) {
      if (e.topic !== topic) continue;
      const id = `${e.id}\0${e.eventId}`;
      if (seen.has(id)) out.duplicated++;
      else if (e.version < (highest.get(e.id) ?? -1n)) out.outOfOrder++;
      seen.add(id);
      if (e.version >= (highest.get(e.id) ?? -1n)) highest.set(e.id, e.version);
      last.set(e.id, e);
    }
    for (const r of rows) {
      const e = last.get(Number(r.id));
      if (!e || e.v !== Number(r.v)) out.lost++;
    }
  }
  return out;
}

interface Group {
  eos: boolean;
  props: string;
  workers: WorkerProcess[];
  suffix: string;
  /** Workers being started again after a kill: stopped too when a test ends early. */
  starting: Array<Promise<void>>;
}

async function startGroup(eos: boolean): Promise<Group> {
  const suffix = uniqueSuffix();
  const { props, workers } = await startDistributedWorkers({
    brokers,
    suffix: `faults-${suffix}`,
    count: 3,
    extra: { ...(eos ? { 'exactly.once.source.support': 'enabled' } : {}), 'offset.flush.interval.ms': '300' },
  });
  return { eos, props, workers, suffix, starting: [] };
}

async function status(g: Group, name: string): Promise<Status | null> {
  for (const w of g.workers) {
    try {
      const r = await rest<Status>(w.url, 'GET', `/connectors/${name}/status`);
      if (r.status === 200) return r.body;
    } catch {
      // that worker is down; ask the next
    }
  }
  return null;
}

/** POST/PUT/DELETE retried through 409s (rebalances) and dead workers. */
async function write(g: Group, method: string, pathname: string, body?: unknown): Promise<number> {
  return waitFor(
    async () => {
      for (const w of g.workers) {
        try {
          const r = await rest(w.url, method, pathname, body);
          if (r.status !== 409 && r.status < 500) return r.status;
        } catch {
          // down
        }
      }
      return null;
    },
    60_000,
    `${method} ${pathname}`,
  );
}

const allRunning = (s: Status | null, n: number, live: Set<string>) =>
  !!s && s.tasks.length === n && s.tasks.every((t) => t.state === 'RUNNING' && live.has(t.worker_id));

/** Status records written for a connector's tasks so far (each start writes at least one). */
async function taskStatusWrites(g: Group, connector: string): Promise<number> {
  const records = await readTopic(brokers, `it-dist-faults-${g.suffix}-status`);
  return records.filter((r) => r.key?.startsWith(`status-task-${connector}-`) && r.value !== null).length;
}

describe('distributed workers: incremental cooperative rebalancing', () => {
  let g: Group;
  beforeAll(async () => {
    g = await startGroup(false);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(g.workers.map((w) => stopWorker(w)));
  }, 60_000);

  it('creating, changing and deleting one connector never stops or moves another’s tasks', async () => {
    const seq = (name: string, tasks: number) => ({
      name,
      config: {
        'connector.class': 'erpstream.connectors.SequenceSourceConnector',
        'tasks.max': String(tasks),
        topic: `it-faults-${name}-${g.suffix}`,
        'records.per.second': '20',
      },
    });
    expect(await write(g, 'POST', '/connectors', seq('m-steady', 4))).toBe(201);
    const live = new Set(g.workers.map((w) => w.workerId));
    const before = await waitFor(
      async () => {
        const s = await status(g, 'm-steady');
        return allRunning(s, 4, live) ? s : null;
      },
      60_000,
      'm-steady RUNNING',
    );
    await sleep(1500);
    const writesBefore = await taskStatusWrites(g, 'm-steady');

    // Sorts before m-steady, so an eager round-robin deal would shift every unit after it.
    expect(await write(g, 'POST', '/connectors', seq('a-other', 3))).toBe(201);
    await waitFor(async () => allRunning(await status(g, 'a-other'), 3, live), 60_000, 'a-other RUNNING');
    expect(await write(g, 'PUT', '/connectors/a-other/config', seq('a-other', 5).config)).toBe(200);
    await waitFor(async () => allRunning(await status(g, 'a-other'), 5, live), 60_000, 'a-other with 5 tasks');
    expect(await write(g, 'DELETE', '/connectors/a-other')).toBe(204);
    await waitFor(async () => (await status(g, 'a-other')) === null, 60_000, 'a-other gone');
    await sleep(1500);

    const after = await status(g, 'm-steady');
    expect(after?.tasks.map((t) => [t.id, t.worker_id, t.state])).toEqual(
      before.tasks.map((t) => [t.id, t.worker_id, 'RUNNING']),
    );
    // No task of m-steady was stopped and started again (every start writes its status).
    expect(await taskStatusWrites(g, 'm-steady')).toBe(writesBefore);
  }, 240_000);
});

for (const eos of [false, true]) {
  describe(`distributed workers under SIGKILLs, ErpSource on PostgreSQL, exactly-once ${eos ? 'on' : 'off'}`, () => {
    let g: Group;
    let db: DbFixture;
    let follower: Consumer | null = null;
    let writer: { stop(): Promise<number> } | null = null;

    beforeAll(async () => {
      db = await pgFixture();
      for (const t of TABLES) {
        await db.createCaptured(t, 'id integer PRIMARY KEY, v integer NOT NULL');
        // Snapshot rows: inserted before the capture matters (the connector snapshots them).
        await db.exec(`INSERT INTO "${db.schema}"."${t}" (id, v) SELECT i, 0 FROM generate_series(1, $1) i`, [
          SNAPSHOT_ROWS,
        ]);
      }
      g = await startGroup(eos);
    }, 180_000);

    afterAll(async () => {
      await writer?.stop().catch(() => {});
      await follower?.disconnect().catch(() => {});
      await Promise.all(g?.starting ?? []);
      await Promise.all(g?.workers.map((w) => stopWorker(w)) ?? []);
      await db?.close();
    }, 60_000);

    it(`${KILLS} random SIGKILLs: 0 lost, 0 out of order${eos ? ', 0 duplicated under read_committed' : ''}, no manual restart`, async () => {
      const schema = db.schema;
      const prefix = `itf_${g.suffix}`;
      const topics = TABLES.map((t) => `${prefix}.${schema}.${t}`);
      const admin = createKafka({ brokers, clientId: 'it-faults-admin', logLevel: 'nothing' }).admin();
      await admin.connect();
      await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 2, replicationFactor: 1 })) });
      await admin.disconnect();
      const { events, consumer } = await follow(topics);
      follower = consumer;

      writer = writeChanges(db, schema);
      const erpConfig: Record<string, string> = {
        'connector.class': 'ErpSource',
        'connection.url': db.url,
        'change.table': `${schema}.change_log`,
        'table.include.list': `${schema}\\.(${TABLES.join('|')})`,
        'topic.prefix': prefix,
        'tasks.max': '3',
        'snapshot.fetch.size': '200',
        'max.batch.size': '200',
        'poll.interval.ms': '100',
        'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'key.converter.schemas.enable': 'false',
      };
      expect(await write(g, 'POST', '/connectors', { name: 'erp', config: erpConfig })).toBe(201);

      const recoveries: Array<{ killToRunningMs: number; killToFlowingMs: number | null }> = [];
      const kill = async (atSnapshot: boolean) => {
        const s = await waitFor(
          async () => {
            const st = await status(g, 'erp');
            return st && st.tasks.length === 3 && st.tasks.every((t) => t.state === 'RUNNING') ? st : null;
          },
          120_000,
          'three RUNNING tasks',
        );
        // A worker that runs a task, so every kill moves work.
        const busy = g.workers.filter((w) => s.tasks.some((t) => t.worker_id === w.workerId));
        const victim = busy[Math.floor(Math.random() * busy.length)]!;
        const moved = s.tasks.filter((t) => t.worker_id === victim.workerId).map((t) => t.id);
        const killedAt = Date.now();
        const eventsAtKill = events.length;
        await killWorker(victim);
        if (atSnapshot) expect(eventsAtKill, 'the kill lands during the snapshot').toBeLessThan(3 * SNAPSHOT_ROWS);
        g.workers = g.workers.filter((w) => w !== victim);
        // Started again at once (under a new worker id): it may join the same rebalance and take work itself.
        const restarted = startWorker(g.props).then((w) => void g.workers.push(w));
        g.starting.push(restarted.catch(() => {}));
        let last: Status | null = null;
        const runningAt = await waitFor(
          async () => {
            const st = (last = await status(g, 'erp'));
            const ok =
              st &&
              moved.every((id) =>
                st.tasks.some((t) => t.id === id && t.state === 'RUNNING' && t.worker_id !== victim.workerId),
              );
            return ok ? Date.now() : null;
          },
          120_000,
          `tasks ${moved.join(',')} of the killed worker RUNNING elsewhere`,
        ).catch((e: unknown) => {
          throw new Error(`${String(e)}; last status: ${JSON.stringify(last)}`);
        });
        await restarted;
        // Records flowing: a new event of the victim's tables after its tasks run again (tables ↔ tasks unknown
        // here, so: every table got an event after that moment).
        const flowingAt = await waitFor(
          () => {
            const latest = topics.map((t) => Math.max(0, ...events.filter((e) => e.topic === t).map((e) => e.arrived)));
            return latest.every((a) => a > runningAt) ? Math.max(...latest) : null;
          },
          60_000,
          'records flowing on every table',
        ).catch(() => null);
        recoveries.push({ killToRunningMs: runningAt - killedAt, killToFlowingMs: flowingAt && flowingAt - killedAt });
      };

      // The first kill lands inside the snapshot, the others at random moments while changes stream.
      await waitFor(() => events.length > 100, 60_000, 'the snapshot to start');
      await kill(true);
      for (let k = 1; k < KILLS; k++) {
        await sleep(random(1000, 5000));
        await kill(false);
      }
      // Fewer tasks while changes stream: tables move between tasks (with exactly-once, the producers of the
      // earlier task generation are fenced before the new tasks start).
      await sleep(1000);
      expect(await write(g, 'PUT', '/connectors/erp/config', { ...erpConfig, 'tasks.max': '2' })).toBe(200);
      await sleep(3000);
      const changes = await writer.stop();
      writer = null;

      // Everything committed reaches the topics, without a manual restart.
      const live = new Set(g.workers.map((w) => w.workerId));
      await waitFor(async () => allRunning(await status(g, 'erp'), 2, live), 120_000, 'two RUNNING tasks at the end');
      let counts: Counts | null = null;
      await waitFor(
        async () => {
          counts = await count(db, schema, prefix, events);
          return counts.lost === 0;
        },
        120_000,
        'every row’s final state on its topic',
      ).catch(() => {});
      counts = await count(db, schema, prefix, events);
      const final = await status(g, 'erp');
      console.log(
        JSON.stringify({
          suite: 'distributed-faults',
          exactlyOnce: eos,
          kills: KILLS,
          changes,
          snapshotRows: 3 * SNAPSHOT_ROWS,
          ...counts,
          recoveries,
          load: os.loadavg().map((l) => l.toFixed(2)),
        }),
      );
      expect(final?.tasks.map((t) => t.state)).toEqual(['RUNNING', 'RUNNING']);
      expect(counts!.lost, 'lost').toBe(0);
      expect(counts!.outOfOrder, 'out of order').toBe(0);
      if (eos) expect(counts!.duplicated, 'duplicated under read_committed').toBe(0);
      if (eos) {
        // KIP-618 zombie fencing ran for the first task configs and again for the two-task ones.
        const configs = await readTopic(brokers, `it-dist-faults-${g.suffix}-configs`);
        const fencings = configs.filter((r) => r.key === 'tasks-fencing-erp').map((r) => JSON.parse(r.value!));
        expect(fencings.slice(-1)).toEqual([{ 'task-count': 2 }]);
        expect(fencings.length).toBeGreaterThanOrEqual(2);
      }
    }, 600_000);
  });
}

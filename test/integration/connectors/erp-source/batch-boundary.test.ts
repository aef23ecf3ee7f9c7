import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../../../runtime/api/index.js';
import { erpSourceConfigDef } from '../../../../connectors/erp-source/config.js';
import {
  type DbFixture,
  TaskHarness,
  envelope,
  events,
  header,
  keyOf,
  mysqlFixture,
  pgFixture,
  sourceProps,
} from './harness.js';

/**
 * ErpSource at the edges of its default batch (max.batch.size 512, not set here: the default is what is tested),
 * where the task reads the next batch ahead while the current one is sent. Promises checked: no committed change
 * skipped, none emitted twice in a clean run, per-key versions strictly increasing, and after a task dropped without
 * committing, a replay of the uncommitted changes only.
 */
const DEFAULT_BATCH = 512;

for (const [name, fixture] of [
  ['PostgreSQL', () => pgFixture()],
  ['MariaDB', () => mysqlFixture()],
] as const) {
  describe(`ErpSource ${name} at the default batch size`, () => {
    let db: DbFixture;
    const harnesses: TaskHarness[] = [];
    let tables = 0;
    const pgLike = () => db.dialect === 'postgresql';
    const q = (t: string) => (pgLike() ? `"${db.schema}"."${t}"` : `\`${db.schema}\`.\`${t}\``);

    beforeAll(async () => {
      db = await fixture();
      expect(erpSourceConfigDef.key('max.batch.size')?.defaultValue).toBe(DEFAULT_BATCH);
    });
    afterAll(async () => {
      for (const h of harnesses) await h.stop().catch(() => {});
      await db?.close();
    });

    /** Inserts ids from..to (one change each) in one statement, on `on` (a session) or autocommitted. */
    const insertRange = async (table: string, from: number, to: number, note: string, on = db) => {
      if (to < from) return;
      const source = pgLike() ? `generate_series(${from}, ${to}) AS s` : `seq_${from}_to_${to}`;
      const idCol = pgLike() ? 's' : 'seq';
      await on.exec(`INSERT INTO ${q(table)} (id, note) SELECT ${idCol}, '${note}' FROM ${source}`);
    };

    /** A new captured table (ids, notes) and a task streaming it from now on. */
    async function streaming(prefix: string, extra: Record<string, string> = {}) {
      const table = `${prefix}_${tables++}`;
      await db.createCaptured(
        table,
        pgLike() ? 'id integer PRIMARY KEY, note text' : 'id int PRIMARY KEY, note varchar(40)',
      );
      const h = new TaskHarness(
        sourceProps(db, { 'table.include.list': `${db.schema}\\.${table}`, 'snapshot.mode': 'never', ...extra }),
      );
      harnesses.push(h);
      await h.start();
      await h.poll();
      return { table, h };
    }

    /** Per key, in emission order: [version, op, note]; asserts versions strictly increase per key within `records`. */
    function perKey(records: readonly SourceRecord[], table: string) {
      const out = new Map<number, Array<{ v: bigint; op: string; note: unknown }>>();
      for (const r of events(records, table)) {
        const id = Number(keyOf(r));
        const v = BigInt(header(r, 'erpstream.version') as string);
        const list = out.get(id) ?? [];
        if (list.length > 0)
          expect(v, `key ${id}: version ${v} after ${list.at(-1)!.v}`).toBeGreaterThan(list.at(-1)!.v);
        const e = envelope(r);
        list.push({ v, op: e.op, note: e.after?.get('note') ?? null });
        out.set(id, list);
      }
      return out;
    }

    /** The highest change sequence per key in the change table, and the rows as they are. */
    async function truth(table: string) {
      const seqs = await db.exec(
        `SELECT record_id AS k, ${pgLike() ? 'max(seq)::text' : 'CAST(max(seq) AS CHAR)'} AS m FROM ${q('change_log')} ` +
          `WHERE table_name LIKE '%${table}' GROUP BY record_id`,
      );
      const rows = await db.exec(`SELECT id, note FROM ${q(table)}`);
      return {
        maxSeq: new Map(seqs.map((r) => [Number(r.k), BigInt(String(r.m))])),
        rows: new Map(rows.map((r) => [Number(r.id), r.note])),
      };
    }

    /** Polls (acknowledging) until `count` change events of the table came, then a little longer for extras. */
    async function drain(h: TaskHarness, table: string, count: number) {
      const all = await h.pollUntil((rs) => events(rs, table).length >= count, 60_000);
      all.push(...(await h.pollFor(400)));
      return all;
    }

    for (const n of [511, 512, 513, 1024, 1025]) {
      it(`${n} pending changes in one transaction: each emitted exactly once, in full batches of 512`, async () => {
        const { table, h } = await streaming(`n${n}`);
        await insertRange(table, 1, n, 'v1');
        const sizes: number[] = [];
        const all: SourceRecord[] = [];
        const deadline = Date.now() + 60_000;
        while (events(all, table).length < n && Date.now() < deadline) {
          const batch = await h.poll();
          await h.ack(batch);
          if (events(batch, table).length > 0) sizes.push(events(batch, table).length);
          all.push(...batch);
        }
        all.push(...(await h.pollFor(400)));
        const keys = perKey(all, table);
        expect(keys.size).toBe(n);
        expect([...keys.values()].filter((l) => l.length !== 1).map((l) => l.length)).toEqual([]);
        expect(sizes.every((s) => s <= DEFAULT_BATCH)).toBe(true);
        expect(sizes.slice(0, Math.floor(n / DEFAULT_BATCH))).toEqual(
          Array.from({ length: Math.floor(n / DEFAULT_BATCH) }, () => DEFAULT_BATCH),
        );
      });
    }

    it('1025 changes in 1025 transactions, keys changed on both sides of each batch edge: order and final state', async () => {
      const { table, h } = await streaming('edges');
      // Keys 1..600 inserted, then keys at the edges updated so their changes straddle batches 1/2 and 2/3.
      for (let i = 1; i <= 600; i++) await db.exec(`INSERT INTO ${q(table)} (id, note) VALUES (${i}, 'v1')`);
      for (let i = 1; i <= 425; i++) {
        const id = [1, 511, 512, 513, 600][i % 5]!;
        await db.exec(`UPDATE ${q(table)} SET note = 'u${i}' WHERE id = ${id}`);
      }
      const { maxSeq, rows } = await truth(table);
      const all = await h.pollUntil((rs) => {
        const last = new Map<number, bigint>();
        for (const r of events(rs, table)) last.set(Number(keyOf(r)), BigInt(header(r, 'erpstream.version') as string));
        return [...maxSeq].every(([k, m]) => last.get(k) === m);
      }, 60_000);
      all.push(...(await h.pollFor(400)));
      const keys = perKey(all, table);
      for (const [k, list] of keys) {
        expect(list.at(-1)!.v, `key ${k}`).toBe(maxSeq.get(k));
        expect(list.at(-1)!.note, `key ${k}`).toBe(rows.get(k));
      }
      expect(keys.size).toBe(600);
    });

    for (const at of [DEFAULT_BATCH, DEFAULT_BATCH + 1]) {
      it(`a transaction holding change number ${at} of the batch commits late: emitted once, nothing skipped around it`, async () => {
        const { table, h } = await streaming(`late${at}`, { 'gap.timeout.ms': '60000' });
        await insertRange(table, 1, at - 1, 'early');
        const held = await db.session();
        try {
          await held.exec('BEGIN');
          await held.exec(`INSERT INTO ${q(table)} (id, note) VALUES (${at}, 'held')`);
          await insertRange(table, at + 1, 1100, 'after');
          // Everything but the held one; poll on a while with it open (the read-ahead runs past it).
          const before = await h.pollUntil((rs) => events(rs, table).length >= 1099, 60_000);
          before.push(...(await h.pollFor(600)));
          expect(events(before, table).some((r) => Number(keyOf(r)) === at)).toBe(false);
          await held.exec('COMMIT');
          const after = await drain(h, table, 1);
          const keys = perKey([...before, ...after], table);
          expect(keys.size).toBe(1100);
          expect([...keys].filter(([, l]) => l.length !== 1).map(([k]) => k)).toEqual([]);
          expect(keys.get(at)![0]!.note).toBe('held');
        } finally {
          await held.close();
        }
      });
    }

    it('changes committed while the read-ahead batch is in flight are emitted, per key in order', async () => {
      const { table, h } = await streaming('inflight');
      await insertRange(table, 1, 1600, 'v1');
      const all: SourceRecord[] = [];
      // Each poll of a full batch starts the next one's read; write at once, before and while it runs.
      for (let round = 0; round < 6; round++) {
        const batch = await h.poll();
        const writes = (async () => {
          for (const id of [1, 512, 513, 1024, 1025, 1600 - round]) {
            await db.exec(`UPDATE ${q(table)} SET note = 'r${round}' WHERE id = ${id}`);
          }
        })();
        await h.ack(batch);
        all.push(...batch);
        await writes;
      }
      const { maxSeq, rows } = await truth(table);
      all.push(
        ...(await h.pollUntil((rs) => {
          const last = new Map<number, bigint>();
          for (const r of events([...all, ...rs], table))
            last.set(Number(keyOf(r)), BigInt(header(r, 'erpstream.version') as string));
          return [...maxSeq].every(([k, m]) => last.get(k) === m);
        }, 60_000)),
      );
      all.push(...(await h.pollFor(400)));
      const keys = perKey(all, table);
      expect(keys.size).toBe(1600);
      for (const [k, list] of keys) expect(list.at(-1)!.note, `key ${k}`).toBe(rows.get(k));
    });

    for (const acked of [0, 300, DEFAULT_BATCH - 1]) {
      it(`dropped after sending a full batch of 512 with ${acked} of it acknowledged (read-ahead in flight): replays exactly the rest`, async () => {
        const { table, h } = await streaming(`crash${acked}`);
        await insertRange(table, 1, 1025, 'v1');
        const first = await h.poll();
        expect(events(first, table)).toHaveLength(DEFAULT_BATCH);
        await h.ack(first);
        // Sent; Kafka acknowledged a prefix (the worker commits the offsets of that prefix); the next batch is being
        // read ahead right now.
        const sent = await h.poll();
        expect(events(sent, table)).toHaveLength(DEFAULT_BATCH);
        await h.ack(sent.slice(0, acked));
        await h.stop();
        const again = new TaskHarness(h.props, h.store);
        harnesses.push(again);
        await again.start();
        const rest = await drain(again, table, 1025 - DEFAULT_BATCH - acked);
        const committed = new Set([...first, ...sent.slice(0, acked)].map((r) => Number(keyOf(r))));
        const unacked = sent.slice(acked).map((r) => Number(keyOf(r)));
        const restIds = events(rest, table).map((r) => Number(keyOf(r)));
        // Nothing committed comes again; what was sent and not committed does, once, first; then the rest.
        expect(restIds.filter((id) => committed.has(id))).toEqual([]);
        expect(restIds.slice(0, unacked.length)).toEqual(unacked);
        expect(new Set(restIds).size).toBe(restIds.length);
        expect(new Set([...committed, ...restIds]).size).toBe(1025);
        perKey([...first, ...sent.slice(0, acked), ...rest], table);
      });
    }

    it('a table excluded between batches (task restarted without it) and included again resumes where it was committed', async () => {
      const a = `exa_${tables++}`;
      const b = `exb_${tables++}`;
      for (const t of [a, b])
        await db.createCaptured(
          t,
          pgLike() ? 'id integer PRIMARY KEY, note text' : 'id int PRIMARY KEY, note varchar(40)',
        );
      const both = sourceProps(db, { 'table.include.list': `${db.schema}\\.(${a}|${b})`, 'snapshot.mode': 'never' });
      const h = new TaskHarness(both);
      harnesses.push(h);
      await h.start();
      await h.poll();
      // Interleaved: 700 changes of each table, alternating, in one stream.
      for (let i = 1; i <= 700; i += 50) {
        await insertRange(a, i, i + 49, 'v1');
        await insertRange(b, i, i + 49, 'v1');
      }
      const first = await h.poll();
      await h.ack(first);
      expect(events(first).length).toBe(DEFAULT_BATCH);
      await h.stop();
      // Reconfigured without b: a goes on from its committed offset.
      const onlyA = new TaskHarness({ ...both, 'table.include.list': `${db.schema}\\.${a}` }, h.store);
      harnesses.push(onlyA);
      await onlyA.start();
      const runA = await drain(onlyA, a, 700 - events(first, a).length);
      expect(events(runA, b)).toEqual([]);
      await onlyA.stop();
      // b again: its changes after its own committed offset, once; a's are not repeated.
      const again = new TaskHarness(both, h.store);
      harnesses.push(again);
      await again.start();
      const runB = await drain(again, b, 700 - events(first, b).length);
      expect(events(runB, a)).toEqual([]);
      const idsA = [...events(first, a), ...events(runA, a)].map((r) => Number(keyOf(r)));
      const idsB = [...events(first, b), ...events(runB, b)].map((r) => Number(keyOf(r)));
      expect(idsA.length).toBe(700);
      expect(new Set(idsA).size).toBe(700);
      expect(idsB.length).toBe(700);
      expect(new Set(idsB).size).toBe(700);
    });
  });
}

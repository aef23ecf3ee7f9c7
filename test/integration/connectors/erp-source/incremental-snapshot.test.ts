import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../../../runtime/api/index.js';
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

/** Signal-driven incremental snapshots (Debezium's execute-snapshot) against the real databases. */
describe.each([
  ['PostgreSQL', pgFixture],
  ['MariaDB', mysqlFixture],
] as const)('ErpSource incremental snapshot on %s', (_name, makeFixture) => {
  let db: DbFixture;
  const harnesses: TaskHarness[] = [];
  const pg = () => db.dialect === 'postgresql';
  const q = (t: string) => (pg() ? `"${db.schema}"."${t}"` : `\`${db.schema}\`.\`${t}\``);

  beforeAll(async () => {
    db = await makeFixture();
    await db.exec(
      `CREATE TABLE ${q('debezium_signal')} (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data ${pg() ? 'text' : 'TEXT'})`,
    );
  });
  afterAll(async () => {
    for (const h of harnesses) await h.stop().catch(() => {});
    await db?.close();
  });

  const harness = (table: string, extra: Record<string, string> = {}) => {
    const h = new TaskHarness(
      sourceProps(db, {
        'table.include.list': `${db.schema}\\.${table}`,
        'snapshot.mode': 'never',
        'signal.data.collection': `${db.schema}.debezium_signal`,
        'incremental.snapshot.chunk.size': '4',
        ...extra,
      }),
    );
    harnesses.push(h);
    return h;
  };
  const signal = (id: string, type: string, tables: string[]) =>
    db.exec(
      `INSERT INTO ${q('debezium_signal')} (id, type, data) VALUES ('${id}', '${type}', '${JSON.stringify({ 'data-collections': tables, type: 'incremental' })}')`,
    );
  const reads = (rs: SourceRecord[]) => events(rs).filter((r) => envelope(r).op === 'r');
  /** Replays events in order: the state a compacted topic ends with. */
  const replay = (rs: SourceRecord[]) => {
    const state = new Map<number, number>();
    for (const r of rs) {
      if (r.value === null) continue;
      const e = envelope(r);
      const id = Number(keyOf(r));
      if (e.op === 'd') state.delete(id);
      else state.set(id, Number(e.after!.get('weight_kg')));
    }
    return state;
  };
  const tableState = async (table: string) =>
    new Map((await db.exec(`SELECT id, weight_kg FROM ${q(table)}`)).map((r) => [Number(r.id), Number(r.weight_kg)]));
  const seed = async (table: string, n: number) => {
    await db.createCaptured(table, `id integer PRIMARY KEY, weight_kg integer NOT NULL`);
    for (let i = 1; i <= n; i++) await db.exec(`INSERT INTO ${q(table)} (id, weight_kg) VALUES (${i}, ${i})`);
  };

  it('snapshots the named table in chunks as r events while concurrent changes keep streaming; final state equals the table', async () => {
    await seed('shipment', 25);
    const h = harness('shipment');
    await h.start();
    expect(await h.pollFor(300)).toEqual([]); // snapshot.mode=never: nothing until signalled
    await signal('sig-1', 'execute-snapshot', [`${db.schema}.shipment`]);

    const all: SourceRecord[] = [];
    const chunkSizes: number[] = [];
    let changed = false;
    const deadline = Date.now() + 20_000;
    while (!h.progress.some((p) => (p.incremental_snapshot as { done?: boolean } | undefined)?.done)) {
      expect(Date.now()).toBeLessThan(deadline);
      const batch = await h.poll();
      h.store.commit(batch);
      all.push(...batch);
      const r = reads(batch).length;
      if (r > 0) chunkSizes.push(r);
      if (!changed && reads(all).length > 0) {
        changed = true; // while the snapshot runs: rows before and after the chunk position change
        await db.exec(`UPDATE ${q('shipment')} SET weight_kg = 1000 WHERE id = 2`);
        await db.exec(`UPDATE ${q('shipment')} SET weight_kg = 2000 WHERE id = 20`);
        await db.exec(`DELETE FROM ${q('shipment')} WHERE id = 21`);
        await db.exec(`INSERT INTO ${q('shipment')} (id, weight_kg) VALUES (26, 26)`);
      }
    }
    all.push(...(await h.pollFor(500)));
    expect(Math.max(...chunkSizes)).toBeLessThanOrEqual(4);
    expect(chunkSizes.length).toBeGreaterThanOrEqual(6);
    const r = reads(all);
    expect(r.every((e) => envelope(e).source.get('snapshot') === 'incremental')).toBe(true);
    expect(new Set(r.map((e) => Number(keyOf(e))))).toEqual(
      new Set([...Array(26).keys()].map((i) => i + 1).filter((i) => i !== 21)),
    );
    // streamed changes arrived alongside the snapshot
    expect(events(all).some((e) => envelope(e).op === 'd' && Number(keyOf(e)) === 21)).toBe(true);
    expect(replay(all)).toEqual(await tableState('shipment'));
    expect(replay(all).get(20)).toBe(2000);
    expect(h.logs.some((l) => l.msg === 'Signal' && l.fields!.signal === 'sig-1')).toBe(true);
  });

  it('gives chunk rows versions that never go below a streamed change of their key, also with writes racing the chunk reads; highest version wins equals the table', async () => {
    const n = 30;
    await seed('parcel', n);
    const h = harness('parcel', { 'incremental.snapshot.chunk.size': '3' });
    await h.start();
    await signal('sig-v', 'execute-snapshot', [`${db.schema}.parcel`]);
    const writer = await db.session();
    const holder = await db.session();
    const held = 28; // locked by `holder` across several chunk reads; the writer stays away from it
    let stop = false;
    let ops = 0;
    // Writes racing the task: between a poll's stream read and its chunk read, and between chunks.
    const racing = (async () => {
      while (!stop) {
        ops += 1;
        const id = 1 + ((ops * 7) % n);
        if (id === held) continue;
        if (ops % 5 === 0) {
          await writer.exec(`DELETE FROM ${q('parcel')} WHERE id = ${id}`);
          if (ops % 10 !== 0) await writer.exec(`INSERT INTO ${q('parcel')} (id, weight_kg) VALUES (${id}, ${ops})`);
        } else {
          await writer.exec(`UPDATE ${q('parcel')} SET weight_kg = ${1000 + ops} WHERE id = ${id}`);
        }
      }
    })();
    const all: SourceRecord[] = [];
    let polls = 0;
    const deadline = Date.now() + 30_000;
    try {
      while (!h.progress.some((p) => (p.incremental_snapshot as { done?: boolean } | undefined)?.done)) {
        expect(Date.now()).toBeLessThan(deadline);
        const batch = await h.poll();
        await h.ack(batch);
        all.push(...batch);
        polls += 1;
        if (polls === 2) {
          await holder.exec('BEGIN');
          await holder.exec(`UPDATE ${q('parcel')} SET weight_kg = 5000 WHERE id = ${held}`);
        }
        if (polls === 2 + Math.ceil(n / 3)) await holder.exec('COMMIT'); // after the chunk holding it was read
      }
      if (polls < 2 + Math.ceil(n / 3)) await holder.exec('COMMIT');
    } finally {
      stop = true;
      await racing;
    }
    all.push(...(await h.pollFor(800)));
    await writer.close();
    await holder.close();

    const last = new Map<number, { v: bigint; op: string }>();
    const consumer = new Map<number, { v: bigint; weight: number | null }>();
    let chunkRowsAfterStream = 0;
    for (const r of events(all)) {
      const id = Number(keyOf(r));
      const v = BigInt(header(r, 'erpstream.version') as string);
      const e = envelope(r);
      const prev = last.get(id);
      if (prev !== undefined) {
        // A chunk row may repeat the version of the streamed event it already contains (a duplicate the consumer
        // drops); whatever comes after a chunk row is a change it does not contain and must win.
        const order = `key ${id}: ${e.op}@${v} after ${prev.op}@${prev.v}`;
        if (prev.op === 'r') expect(v, order).toBeGreaterThan(prev.v);
        else expect(v, order).toBeGreaterThanOrEqual(prev.v);
        if (e.op === 'r' && prev.op !== 'r') chunkRowsAfterStream += 1;
      }
      last.set(id, { v, op: e.op });
      const heldV = consumer.get(id);
      if (heldV && v <= heldV.v) continue; // the documented rule: keep the highest version
      consumer.set(id, { v, weight: e.op === 'd' ? null : Number(e.after!.get('weight_kg')) });
    }
    expect(chunkRowsAfterStream).toBeGreaterThan(0); // the race happened: chunk rows of keys already streamed
    const r = reads(all);
    expect(new Set(r.map((e) => Number(keyOf(e)))).has(held)).toBe(true);
    expect(r.every((e) => BigInt(header(e, 'erpstream.version') as string) > 0n)).toBe(true);
    const wins = new Map(
      [...consumer].filter(([, s]) => s.weight !== null).map(([id, s]) => [id, s.weight!] as [number, number]),
    );
    const table = await tableState('parcel');
    expect(table.get(held)).toBe(5000);
    expect(wins).toEqual(table);
    expect(replay(all)).toEqual(table);
  });

  it('resumes an interrupted incremental snapshot after a restart and does not re-run a finished one', async () => {
    await seed('invoice', 22);
    const h = harness('invoice', { 'incremental.snapshot.chunk.size': '3' });
    await h.start();
    await h.pollFor(200);
    await signal('sig-2', 'execute-snapshot', [`${db.schema}.invoice`]);
    const first = await h.pollUntil((all) => reads(all).length >= 9);
    const acked = reads(first).map((e) => Number(keyOf(e)));
    await h.restart();
    const rest = await h.pollUntil(() =>
      h.progress.some((p) => (p.incremental_snapshot as { done?: boolean } | undefined)?.done),
    );
    const after = reads(rest).map((e) => Number(keyOf(e)));
    expect(after[0]).toBe(Math.max(...acked) + 1); // resumed after the last acknowledged key, not from the start
    expect(new Set([...acked, ...after])).toEqual(new Set([...Array(22).keys()].map((i) => i + 1)));
    expect(h.logs.some((l) => l.msg === 'Resuming incremental snapshot')).toBe(true);

    await h.restart();
    expect(reads(await h.pollFor(500))).toEqual([]); // sig-2 is remembered as done
    await signal('sig-3', 'execute-snapshot', [`${db.schema}.invoice`]);
    const again = await h.pollUntil((all) => reads(all).length >= 22);
    expect(replay(again)).toEqual(await tableState('invoice'));
  });

  it('keeps the offsets the same size however many signals pile up, and acts on each once across a crash before the flush', async () => {
    await seed('pallet', 5);
    const h = harness('pallet', { 'incremental.snapshot.chunk.size': '10' });
    await h.start();
    await h.pollFor(200);
    const signalsOf = (rs: SourceRecord[]) =>
      rs.map((r) => JSON.stringify((r.sourceOffset as { signals?: unknown }).signals ?? null));
    const bulk = async (prefix: string, n: number) => {
      const data = JSON.stringify({ 'data-collections': [`${db.schema}.not_captured`], type: 'incremental' });
      const rows = Array.from({ length: n }, (_, i) => `('${prefix}-${(i * 37) % n}', 'execute-snapshot', '${data}')`);
      await db.exec(`INSERT INTO ${q('debezium_signal')} (id, type, data) VALUES ${rows.join(', ')}`);
    };
    await bulk('few', 5);
    await signal('p-1', 'execute-snapshot', [`${db.schema}.pallet`]);
    const small = signalsOf(await h.pollUntil((all) => reads(all).length >= 5)).pop()!;
    await bulk('many', 400); // ids in no particular order ('many-10' sorts below 'many-9')
    await signal('p-2', 'execute-snapshot', [`${db.schema}.pallet`]);
    const big = signalsOf(await h.pollUntil((all) => reads(all).length >= 5)).pop()!;
    expect(big.length).toBeLessThan(1300);
    expect(big.length).toBeLessThan(small.length + 1100);
    expect(big).not.toContain('many-');

    // Acted on, emitted, never acknowledged, then killed: the signal is not lost, it runs again.
    await signal('p-3', 'execute-snapshot', [`${db.schema}.pallet`]);
    await h.pollUntil((all) => reads(all).length >= 5, 20_000, false);
    await h.stop();
    await signal('a-while-down', 'stop-snapshot', [`${db.schema}.other`]); // arrives while the task is down
    const h2 = new TaskHarness(h.props, h.store);
    harnesses.push(h2);
    await h2.start();
    const rerun = await h2.pollUntil((all) => reads(all).length >= 5);
    expect(new Set(reads(rerun).map((e) => Number(keyOf(e))))).toEqual(new Set([1, 2, 3, 4, 5]));
    const acted = (hh: TaskHarness) => hh.logs.filter((l) => l.msg === 'Signal').map((l) => String(l.fields!.signal));
    expect(acted(h2).sort()).toEqual(['a-while-down', 'p-3']);
    await h2.pollFor(300);
    // Acknowledged now: a restart acts on nothing and snapshots nothing.
    await h2.restart();
    expect(reads(await h2.pollFor(500))).toEqual([]);
    expect(acted(h2).sort()).toEqual(['a-while-down', 'p-3']);
  });

  it('stop-snapshot ends a running incremental snapshot; a malformed signal is logged, not fatal', async () => {
    await seed('orders', 40);
    const h = harness('orders', { 'incremental.snapshot.chunk.size': '2' });
    await h.start();
    await signal('sig-4', 'execute-snapshot', [`${db.schema}.orders`]);
    await h.pollUntil((all) => reads(all).length >= 2);
    await db.exec(
      `INSERT INTO ${q('debezium_signal')} (id, type, data) VALUES ('sig-bad', 'execute-snapshot', '{nope')`,
    );
    await signal('sig-5', 'stop-snapshot', [`${db.schema}.orders`]);
    const after = await h.pollFor(600);
    expect(reads(after).length).toBeLessThanOrEqual(2); // at most the chunk read before the stop was seen
    expect(h.logs.some((l) => l.msg === 'Signal' && l.fields!.signal === 'sig-5')).toBe(true);
    const bad = h.logs.find((l) => l.fields?.signal === 'sig-bad')!;
    expect(bad.level).toBe('warn');
    expect(String(bad.fields!.ignored)).toContain('not JSON');
  });
});

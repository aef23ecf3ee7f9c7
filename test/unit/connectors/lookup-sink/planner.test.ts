import { describe, expect, it } from 'vitest';
import type { Readiness } from '../../../../connectors/lookup-sink/dependencies.js';
import { type LedgerEntry, type TargetRef, entryOf } from '../../../../connectors/lookup-sink/ledger.js';
import type { ParkedRecord } from '../../../../connectors/lookup-sink/park-store.js';
import {
  type PlanContext,
  WAITING_PREFIX,
  type Work,
  candidatesOf,
  intentWritesOf,
  ledgerWriteOf,
  planBatch,
  resolveWorks,
  routedTargets,
} from '../../../../connectors/lookup-sink/planner.js';
import type { Row } from '../../../../connectors/lookup-sink/sql/client.js';
import { Headers, type SinkRecord } from '../../../../runtime/api/index.js';

const record = (key: string): SinkRecord => ({
  topic: 't',
  kafkaPartition: 0,
  kafkaOffset: 0n,
  keySchema: null,
  key,
  valueSchema: null,
  value: {},
  timestamp: 0,
  timestampType: 'CreateTime',
  headers: Headers.of({}),
  originalTopic: 't',
  originalKafkaPartition: 0,
  originalKafkaOffset: 0n,
});

const work = (id: string, version: bigint, over: Partial<Work> = {}): Work => ({
  idText: id,
  id: [id],
  version,
  record: record(id),
  parked: null,
  reeval: false,
  ...over,
});

const parked = (id: string, version: bigint, over: Partial<ParkedRecord> = {}): ParkedRecord => ({
  entityId: id,
  version,
  record: '{}',
  reason: 'r',
  waitingOn: null,
  firstParkedAt: 0,
  nextCheckAt: 0,
  attempts: 0,
  ...over,
});

const held = (version: bigint, ...targets: string[]): LedgerEntry =>
  entryOf(
    version,
    targets.map((t): TargetRef => ({ target: t, deliveredKey: null, version })),
    false,
  );

const ctx: PlanContext = {
  now: 1_000_000,
  parkMaxDurationMs: 1000,
  deleteMode: 'delete',
  withdrawMode: 'delete',
  waitingRecheckMs: 300_000,
  backoff: () => 10,
  targetOf: (row) => {
    if (row.domain === null) throw new Error('no domain');
    return `${String(row.domain)}.documents`;
  },
  encode: () => '{"encoded":true}',
};

const ready = { ready: true } as const;
const soft: Readiness = {
  ready: false,
  reason: 'dependency registered: origin row has no domain yet',
  waitingOn: null,
  soft: true,
};
const hard: Readiness = {
  ready: false,
  reason: 'dependency owner: person 7 not delivered',
  waitingOn: 'd|person|7',
  soft: false,
};

/** Plans one entity whose lookup gave these rows, each with its readiness. */
function planOne(w: Work, rows: Array<[Row, Readiness]>, prev?: LedgerEntry, c: PlanContext = ctx) {
  const cands = candidatesOf([w], { rows: new Map([[w.idText, rows.map(([r]) => r)]]), poison: new Map() }, null);
  const readiness = new Map(cands.candidates.map((cand, i) => [cand.key, rows[i]![1]]));
  return planBatch(cands, readiness, new Map(prev ? [[w.idText, prev]] : []), c);
}

describe('resolveWorks', () => {
  it('drops what the ledger or the park already has, and lets a newer record supersede a parked one', () => {
    const ledger = new Map([
      ['1', held(5n, 'a.documents')],
      ['3', entryOf(5n, [], false)],
    ]);
    const park = new Map([
      ['2', parked('2', 9n)],
      ['4', parked('4', 3n)],
    ]);
    const r = resolveWorks([work('1', 5n), work('2', 9n), work('3', 5n), work('4', 4n)], ledger, park);
    // 3: held nowhere at that version (withdrawn / waiting): decided again.
    expect(r.live.map((w) => w.idText)).toEqual(['3', '4']);
    expect(r.staleDropped).toBe(2);
    expect(r.superseded).toBe(1);
    expect(r.live[1]!.parked?.version).toBe(3n);
  });

  it('gives a re-evaluation the newest known version, and drops it when nothing is known', () => {
    const ledger = new Map([['1', held(5n, 'a.documents')]]);
    const park = new Map([['2', parked('2', 8n)]]);
    const re = (id: string) => work(id, -1n, { record: null, reeval: true });
    const r = resolveWorks([re('1'), re('2'), re('3')], ledger, park);
    expect(r.live.map((w) => [w.idText, w.version, w.parked?.version ?? null])).toEqual([
      ['1', 5n, null],
      ['2', 8n, 8n],
    ]);
    // A stale record that a registration also named is decided again at the delivered version.
    const both = resolveWorks([work('1', 4n, { reeval: true })], ledger, new Map());
    expect(both.live.map((w) => w.version)).toEqual([5n]);
    expect(both.staleDropped).toBe(1);
  });

  it('unparks a parked record the ledger moved past, and keeps one at the same version (partly delivered)', () => {
    const ledger = new Map([
      ['1', held(6n, 'a.documents')],
      ['2', held(6n, 'a.documents')],
    ]);
    const r = resolveWorks(
      [
        work('1', 5n, { record: null, parked: parked('1', 5n) }),
        work('2', 6n, { record: null, parked: parked('2', 6n) }),
      ],
      ledger,
      new Map(),
    );
    expect(r.unpark).toEqual([{ entityId: '1', version: 6n }]);
    expect(r.live.map((w) => w.idText)).toEqual(['2']);
  });
});

describe('resolveWorks after the target changed (destination.table or topic edited)', () => {
  const rows = new Map<string, Row[]>([
    ['1', [{ domain: 'b' }]],
    ['2', [{ domain: 'a' }]],
    ['3', [{ domain: 'a' }, { domain: 'b' }]],
    ['4', [{ domain: null }]],
    ['5', [{ domain: 'b' }]],
    ['6', [{ domain: 'b' }]],
  ]);
  const routed = routedTargets(rows, ctx.targetOf);

  it('keeps a record at the ledger version live when its rows route to a target that does not hold it', () => {
    const ledger = new Map([
      ['1', held(5n, 'a.documents')],
      ['2', held(5n, 'a.documents')],
      ['3', held(5n, 'a.documents')],
      ['4', held(5n, 'a.documents')],
      ['5', held(7n, 'a.documents')],
      ['6', entryOf(5n, [{ target: 'b.documents', deliveredKey: null, version: -1n }], false)],
    ]);
    const works = ['1', '2', '3', '4', '5', '6'].map((id) => work(id, 5n));
    const r = resolveWorks(works, ledger, new Map(), routed);
    // 1 and 3 route to b, which the ledger does not list; 6 lists b at -1 (an intent: held at an unknown version).
    // 2 routes where it is held; 4 routes nowhere (unregistered); 5 is older than the ledger: stale, never backwards.
    expect(r.live.map((w) => [w.idText, w.version])).toEqual([
      ['1', 5n],
      ['3', 5n],
      ['6', 5n],
    ]);
    expect(r.staleDropped).toBe(3);
    // Without the routes (the old call), the ledger version alone decides.
    expect(resolveWorks(works, ledger, new Map()).live).toEqual([]);
  });

  it('the live record delivers to the new target and withdraws from the old one; a delete stays applied', () => {
    const plan = planOne(work('1', 5n), [[{ domain: 'b' }, ready]], held(5n, 'a.documents'));
    expect(plan.deliveries.map((d) => [d.target, d.version])).toEqual([['b.documents', 5n]]);
    expect(plan.removals.map((d) => [d.target, d.kind])).toEqual([['a.documents', 'withdraw']]);
    expect(intentWritesOf(plan).map((w) => w.targets.map((t) => [t.target, t.version]))).toEqual([
      [
        ['a.documents', 5n],
        ['b.documents', -1n],
      ],
    ]);
    const deleted = entryOf(5n, [], true);
    expect(resolveWorks([work('1', 5n)], new Map([['1', deleted]]), new Map(), routed).live).toEqual([]);
  });
});

describe('planBatch', () => {
  it('fans out: one delivery per target the rows route to, each with its own ledger target', () => {
    const w = work('1', 5n);
    const p = planOne(w, [
      [{ document_id: 1, domain: 'a' }, ready],
      [{ document_id: 1, domain: 'b' }, ready],
      [{ document_id: 1, domain: 'b' }, ready],
    ]);
    expect(p.deliveries.map((d) => d.target)).toEqual(['a.documents', 'b.documents']);
    const write = ledgerWriteOf(p.outcomes[0]!, p.deliveries, []);
    expect(write.targets.map((t) => t.target)).toEqual(['a.documents', 'b.documents']);
    expect(write).toMatchObject({ version: 5n, deleted: false, target: 'a.documents' });
  });

  it('delivers only to targets that do not hold the version yet, and withdraws from the ones it left', () => {
    const w = work('1', 5n, { record: null, reeval: true });
    const p = planOne(
      w,
      [
        [{ domain: 'a' }, ready],
        [{ domain: 'c' }, ready],
      ],
      held(5n, 'a.documents', 'b.documents'),
    );
    expect(p.deliveries.map((d) => [d.target, d.version])).toEqual([['c.documents', 5n]]);
    expect(p.removals.map((r) => [r.kind, r.target, r.version])).toEqual([['withdraw', 'b.documents', 5n]]);
    const write = ledgerWriteOf(p.outcomes[0]!, p.deliveries, []);
    expect(write.targets.map((t) => t.target).sort()).toEqual(['a.documents', 'c.documents']);
    // A refused withdrawal (an HTTP 4xx) leaves the target in the ledger: it still holds the entity.
    const refused = ledgerWriteOf(p.outcomes[0]!, p.deliveries, p.removals);
    expect(refused.targets.map((t) => t.target).sort()).toEqual(['a.documents', 'b.documents', 'c.documents']);
  });

  it('withdraws everything when no registration is left, and waits without expiring', () => {
    const w = work('1', 6n, { parked: parked('1', 6n, { firstParkedAt: 0 }) });
    const p = planOne(w, [[{ domain: null }, soft]], held(5n, 'a.documents'));
    expect(p.deliveries).toEqual([]);
    expect(p.removals.map((r) => [r.kind, r.target])).toEqual([['withdraw', 'a.documents']]);
    expect(p.dlq).toEqual([]);
    expect(p.toPark).toHaveLength(1);
    expect(p.toPark[0]!.reason).toBe(`${WAITING_PREFIX}${(soft as { reason: string }).reason}`);
    expect(p.toPark[0]!.nextCheckAt).toBe(ctx.now + ctx.waitingRecheckMs);
    expect(ledgerWriteOf(p.outcomes[0]!, [], []).targets).toEqual([]);
  });

  it('with destination.withdraw.mode=ignore sends nothing but forgets the target', () => {
    const p = planOne(work('1', 6n), [[{ domain: 'b' }, ready]], held(5n, 'a.documents'), {
      ...ctx,
      withdrawMode: 'ignore',
    });
    expect(p.removals).toEqual([]);
    expect(ledgerWriteOf(p.outcomes[0]!, p.deliveries, []).targets.map((t) => t.target)).toEqual(['b.documents']);
  });

  it('parks a hard dependency and sends it to the DLQ once expired; keeps the targets it still routes to', () => {
    const fresh = planOne(work('1', 6n), [[{ domain: 'a' }, hard]], held(5n, 'a.documents'));
    expect(fresh.removals).toEqual([]);
    expect(fresh.toPark[0]).toMatchObject({ reason: (hard as { reason: string }).reason, waitingOn: 'd|person|7' });
    const old = work('1', 6n, { record: null, parked: parked('1', 6n, { firstParkedAt: ctx.now - 5000 }) });
    const expired = planOne(old, [[{ domain: 'a' }, hard]]);
    expect(expired.dlq[0]!.error.message).toMatch(/park.max.duration.ms=1000.*person 7 not delivered/);
    expect(expired.unpark).toEqual([{ entityId: '1', version: 6n }]);
    expect(expired.toPark).toEqual([]);
  });

  it('a waiting record never expires, however long it waited', () => {
    const old = work('1', 6n, { record: null, parked: parked('1', 6n, { firstParkedAt: 0 }) });
    const p = planOne(old, [[{ domain: null }, soft]]);
    expect(p.dlq).toEqual([]);
    expect(p.toPark).toHaveLength(1);
  });

  it('sends poison ids to the DLQ and removes gone rows from every target they were delivered to', () => {
    const a = work('1', 5n);
    const b = work('2', 5n, { parked: parked('2', 4n) });
    const poison = new Error('invalid input syntax (22P02)');
    const cands = candidatesOf([a, b], { rows: new Map(), poison: new Map([['1', poison]]) }, null);
    const p = planBatch(cands, new Map(), new Map([['2', held(4n, 'a.documents', 'b.documents')]]), ctx);
    expect(p.dlq).toEqual([{ work: a, error: poison }]);
    expect(p.removals.map((r) => [r.kind, r.target])).toEqual([
      ['gone', 'a.documents'],
      ['gone', 'b.documents'],
    ]);
    expect(ledgerWriteOf(p.outcomes[0]!, [], [])).toMatchObject({ deleted: true, targets: [], target: 'a.documents' });
    expect(p.unpark).toEqual([{ entityId: '2', version: 5n }]);
  });

  it('a row the delivery chain filters keeps what its target holds (no delivery, no withdrawal)', () => {
    const p = planOne(work('1', 6n), [[{ domain: 'a' }, ready]], held(5n, 'a.documents'), {
      ...ctx,
      shape: () => null,
    });
    expect(p.filtered).toBe(1);
    expect(p.deliveries).toEqual([]);
    expect(p.removals).toEqual([]);
    expect(p.outcomes).toEqual([]);
  });

  it('a sql check that failed for this id sends the record to the DLQ', () => {
    const error = new Error('dependency registered: invalid input (22P02)');
    const p = planOne(work('x', 1n), [
      [{ domain: 'a' }, { ready: false, reason: error.message, waitingOn: null, soft: false, poison: error }],
    ]);
    expect(p.dlq.map((d) => d.error)).toEqual([error]);
    expect(p.toPark).toEqual([]);
  });
});

describe('targets written ahead of a send (a crash between the send and the ledger write)', () => {
  it('lists only new targets, at version -1, keeping the entry version (-1 when there was none)', () => {
    // Held by a at 5; version 6 goes to a and c: only c is new.
    const p = planOne(
      work('1', 6n),
      [
        [{ domain: 'a' }, ready],
        [{ domain: 'c' }, ready],
      ],
      held(5n, 'a.documents'),
    );
    const [intent] = intentWritesOf(p);
    expect(intent).toMatchObject({ entityId: '1', version: 5n, deleted: false });
    expect(intent!.targets.map((t) => [t.target, t.version])).toEqual([
      ['a.documents', 5n],
      ['c.documents', -1n],
    ]);
    // Updates to listed targets need nothing written ahead.
    expect(intentWritesOf(planOne(work('1', 7n), [[{ domain: 'a' }, ready]], held(5n, 'a.documents')))).toEqual([]);
    const first = intentWritesOf(planOne(work('2', 3n), [[{ domain: 'b' }, ready]]));
    expect(first.map((w) => [w.version, w.targets.map((t) => [t.target, t.version])])).toEqual([
      [-1n, [['b.documents', -1n]]],
    ]);
  });

  it('a replay from that entry withdraws the target when unwanted, delivers again when wanted, deletes when gone', () => {
    const intent = intentWritesOf(planOne(work('2', 3n), [[{ domain: 'b' }, ready]]))[0]!;
    // The fresh record is replayed: the entry claims no version, so it is not stale.
    expect(resolveWorks([work('2', 3n)], new Map([['2', intent]]), new Map()).live).toHaveLength(1);
    const unwanted = planOne(work('2', 3n), [[{ domain: null }, soft]], intent);
    expect(unwanted.removals.map((r) => [r.kind, r.target])).toEqual([['withdraw', 'b.documents']]);
    const wanted = planOne(work('2', 3n), [[{ domain: 'b' }, ready]], intent);
    expect(wanted.deliveries.map((d) => [d.target, d.version])).toEqual([['b.documents', 3n]]);
    const w = work('2', 4n);
    const gone = planBatch(
      candidatesOf([w], { rows: new Map(), poison: new Map() }, null),
      new Map(),
      new Map([['2', intent]]),
      ctx,
    );
    expect(gone.removals.map((r) => [r.kind, r.target])).toEqual([['gone', 'b.documents']]);
  });
});

describe('forced re-delivery (repair, replay)', () => {
  const forced = (id: string, over: Partial<Work> = {}) =>
    work(id, -1n, { record: null, reeval: true, force: true, ...over });

  it('takes the ledger version, a delete too, and 0 when nothing is known (a plain re-evaluation is dropped)', () => {
    const deleted = entryOf(9n, [], true);
    const r = resolveWorks(
      [forced('1'), forced('2'), forced('3'), work('4', -1n, { record: null, reeval: true })],
      new Map([
        ['1', held(5n, 'a.documents')],
        ['2', deleted],
      ]),
      new Map(),
    );
    expect(r.live.map((w) => [w.idText, w.version])).toEqual([
      ['1', 5n],
      ['2', 9n],
      ['3', 0n],
    ]);
  });

  it('sends again to a target that the ledger says holds the version (the destination may have lost it)', () => {
    const p = planOne(forced('1', { version: 5n }), [[{ domain: 'a' }, ready]], held(5n, 'a.documents'));
    expect(p.deliveries.map((d) => [d.target, d.version])).toEqual([['a.documents', 5n]]);
    // Not forced: nothing to send.
    const q = planOne(
      work('1', 5n, { record: null, reeval: true }),
      [[{ domain: 'a' }, ready]],
      held(5n, 'a.documents'),
    );
    expect(q.deliveries).toEqual([]);
  });

  it('withdraws from an extra target unless the entity routes there, and re-applies a delete', () => {
    const extra = planOne(forced('1', { version: 5n, extraTargets: ['x.documents'] }), [[{ domain: 'a' }, ready]]);
    expect(extra.deliveries.map((d) => d.target)).toEqual(['a.documents']);
    expect(extra.removals.map((r) => [r.kind, r.target])).toEqual([['withdraw', 'x.documents']]);
    const wanted = planOne(forced('1', { version: 5n, extraTargets: ['a.documents'] }), [[{ domain: 'a' }, ready]]);
    expect(wanted.removals).toEqual([]);
    expect(wanted.deliveries.map((d) => d.target)).toEqual(['a.documents']);

    // Origin row gone: the delete goes again where the ledger says it went, and to the extra target.
    const w = forced('2', { version: 9n, extraTargets: ['y.documents'] });
    const cands = candidatesOf([w], { rows: new Map(), poison: new Map() }, null);
    const prev = { ...entryOf(9n, [], true), target: 'a.documents' };
    const gone = planBatch(cands, new Map(), new Map([['2', prev]]), ctx);
    expect(gone.removals.map((r) => [r.kind, r.target]).sort()).toEqual([
      ['gone', 'a.documents'],
      ['gone', 'y.documents'],
    ]);
    // Nobody holds it and the origin has none: nothing to do, nothing recorded.
    const none = planBatch(
      candidatesOf([forced('3', { version: 0n })], { rows: new Map(), poison: new Map() }, null),
      new Map(),
      new Map(),
      ctx,
    );
    expect(none.removals).toEqual([]);
    expect(none.outcomes).toEqual([]);
  });

  it('reports an entity that still waits on its dependency', () => {
    const p = planOne(forced('1', { version: 5n }), [[{ domain: null }, soft]]);
    expect(p.waiting.map((w) => w.idText)).toEqual(['1']);
    expect(p.toPark).toEqual([]);
  });
});

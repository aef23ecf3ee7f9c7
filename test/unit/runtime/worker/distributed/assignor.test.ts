import { describe, expect, it } from 'vitest';
import {
  type ConnectorUnits,
  type GroupMember,
  type WorkUnit,
  assignWork,
  rebalance,
  unitKey,
} from '../../../../../runtime/worker/distributed/assignor.js';

const member = (workerId: string): GroupMember => ({ workerId, url: `http://${workerId}/` });
const members = ['a:1', 'b:1', 'c:1'].map(member);

/** workerId of every unit. */
function owners(a: Map<string, WorkUnit[]>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [w, units] of a) for (const u of units) out.set(unitKey(u), w);
  return out;
}

function counts(a: Map<string, WorkUnit[]>, kind: 'connector' | 'task'): number[] {
  return [...a.values()].map((us) => us.filter((u) => (kind === 'connector' ? u.task < 0 : u.task >= 0)).length);
}

const fresh = (ms: GroupMember[]) => ms.map((m) => ({ ...m, owned: [] as WorkUnit[] }));
const joining = (ms: GroupMember[], a: Map<string, WorkUnit[]>) =>
  ms.map((m) => ({ ...m, owned: a.get(m.workerId) ?? [] }));
const view = (ms: GroupMember[], a: Map<string, WorkUnit[]>) => ({ members: ms, assignment: Object.fromEntries(a) });

describe('rebalance (the leader, incremental cooperative)', () => {
  it('spreads connectors and tasks evenly, each kind on its own, when nobody runs anything yet', () => {
    const out = rebalance(fresh(members), [
      { name: 'seq', tasks: 4 },
      { name: 'file', tasks: 2 },
    ]);
    expect([...owners(out).keys()]).toHaveLength(8);
    for (const kind of ['connector', 'task'] as const) {
      const c = counts(out, kind);
      expect(Math.max(...c) - Math.min(...c), kind).toBeLessThanOrEqual(1);
    }
  });

  it('leaves every unit where it runs when only a connector was added', () => {
    const config: ConnectorUnits[] = [{ name: 'm', tasks: 5 }];
    const before = rebalance(fresh(members), config);
    const after = rebalance(joining(members, before), [...config, { name: 'a', tasks: 3 }]);
    const was = owners(before);
    for (const [k, w] of was) expect(owners(after).get(k), k).toBe(w);
  });

  it('moves only the departed member’s units, and nothing else', () => {
    const config: ConnectorUnits[] = [
      { name: 'x', tasks: 7 },
      { name: 'y', tasks: 5 },
    ];
    const before = rebalance(fresh(members), config);
    const survivors = members.filter((m) => m.workerId !== 'b:1');
    const after = rebalance(joining(survivors, before), config);
    expect(after.has('b:1')).toBe(false);
    const now = owners(after);
    expect(now.size).toBe(2 + 12);
    for (const [k, w] of owners(before)) if (w !== 'b:1') expect(now.get(k), k).toBe(w);
    const c = counts(after, 'task');
    expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
  });

  it('a joining member gets an even share by moving as few units as possible', () => {
    const config: ConnectorUnits[] = [{ name: 'x', tasks: 9 }];
    const two = members.slice(0, 2);
    const before = rebalance(fresh(two), config);
    const after = rebalance(joining(two, before).concat(fresh([members[2]!])), config);
    const was = owners(before);
    const moved = [...owners(after)].filter(([k, w]) => was.get(k) !== w);
    // 9 tasks over 3 workers: 3 move to the newcomer, nothing else changes hands.
    expect(moved.every(([, w]) => w === 'c:1')).toBe(true);
    expect(moved.filter(([k]) => !k.endsWith('\0-1'))).toHaveLength(3);
  });

  it('a unit claimed by two members stays with one of them', () => {
    const unit = { connector: 'x', task: 0 };
    const out = rebalance(
      members.map((m) => ({ ...m, owned: [unit] })),
      [{ name: 'x', tasks: 1 }],
    );
    expect([...out.values()].flat().filter((u) => u.task === 0)).toHaveLength(1);
  });

  it('gives nothing to nobody when the group is empty', () => {
    expect(rebalance([], [{ name: 'x', tasks: 2 }]).size).toBe(0);
  });
});

describe('assignWork (between rebalances, on every worker alike)', () => {
  const config: ConnectorUnits[] = [
    { name: 'b-conn', tasks: 4 },
    { name: 'c-conn', tasks: 2 },
  ];
  const base = rebalance(fresh(members), config);

  it('never moves a running unit when a connector is created, changed or deleted', () => {
    const was = owners(base);
    const variants: ConnectorUnits[][] = [
      [{ name: 'a-new', tasks: 5 }, ...config],
      [{ name: 'b-conn', tasks: 6 }, config[1]!],
      [{ name: 'b-conn', tasks: 2 }, config[1]!],
      [config[0]!],
    ];
    for (const v of variants) {
      const now = owners(assignWork(view(members, base), v));
      for (const [k, w] of was) if (now.has(k)) expect(now.get(k), `${k} in ${JSON.stringify(v)}`).toBe(w);
    }
  });

  it('spreads a new connector’s tasks evenly, whatever other connectors exist', () => {
    const out = assignWork(view(members, base), [...config, { name: 'a-new', tasks: 6 }]);
    const perWorker = [...out.values()].map((us) => us.filter((u) => u.connector === 'a-new' && u.task >= 0).length);
    expect(perWorker).toEqual([2, 2, 2]);
  });

  it('never moves a connector created since the rebalance when another one is created or deleted', () => {
    const since: ConnectorUnits[] = [...config, { name: 'm-since', tasks: 4 }];
    const was = owners(assignWork(view(members, base), since));
    for (const v of [[{ name: 'a-first', tasks: 3 }, ...since], since.slice(1)]) {
      const now = owners(assignWork(view(members, base), v));
      for (const [k, w] of was) if (now.has(k)) expect(now.get(k), k).toBe(w);
    }
  });

  it('depends only on the view and the current config, not on the order changes came in', () => {
    const target: ConnectorUnits[] = [{ name: 'a-new', tasks: 2 }, config[0]!, { name: 'd', tasks: 3 }];
    const direct = assignWork(view(members, base), target);
    // Whatever intermediate configs a worker saw, it computes the same result for the same config.
    assignWork(view(members, base), [{ name: 'd', tasks: 1 }]);
    expect(assignWork(view(members, base), target)).toEqual(direct);
    expect(assignWork(view([...members].reverse(), base), target)).toEqual(direct);
  });
});

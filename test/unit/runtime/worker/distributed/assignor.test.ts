import { describe, expect, it } from 'vitest';
import { assignWork } from '../../../../../runtime/worker/distributed/assignor.js';

const members = ['a:1', 'b:1', 'c:1'].map((workerId) => ({ workerId, url: `http://${workerId}/` }));

describe('assignWork', () => {
  it('deals connectors and tasks round-robin so every worker gets an even share', () => {
    const out = assignWork(members, [
      { name: 'seq', tasks: 4 },
      { name: 'file', tasks: 2 },
    ]);
    const counts = [...out.values()].map((u) => u.length);
    expect(counts.reduce((a, b) => a + b)).toBe(8);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    // Connectors first (sorted), then tasks with the same cursor.
    expect(out.get('a:1')![0]).toEqual({ connector: 'file', task: -1 });
    expect(out.get('b:1')![0]).toEqual({ connector: 'seq', task: -1 });
  });

  it('moves work of a departed member to the survivors and nothing is left unassigned', () => {
    const before = assignWork(members, [{ name: 'seq', tasks: 30 }]);
    const after = assignWork(members.slice(0, 2), [{ name: 'seq', tasks: 30 }]);
    expect(after.has('c:1')).toBe(false);
    const all = [...after.values()].flat().map((u) => u.task);
    expect(all.sort((x, y) => x - y)).toEqual([-1, ...Array.from({ length: 30 }, (_, i) => i)]);
    expect([...before.values()].flat()).toHaveLength(31);
  });

  it('gives nothing to nobody when the group is empty', () => {
    expect(assignWork([], [{ name: 'x', tasks: 2 }]).size).toBe(0);
  });
});

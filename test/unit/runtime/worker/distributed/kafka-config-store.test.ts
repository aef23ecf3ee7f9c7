import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../../../../runtime/api/index.js';
import { KafkaConfigStore, targetStateValue } from '../../../../../runtime/worker/distributed/kafka-config-store.js';

const logger = { warn: vi.fn(), error: vi.fn(), info: vi.fn(), debug: vi.fn() } as unknown as Logger;
let offset = 0n;
const rec = (key: string, value: unknown) => ({
  key,
  value: value === null ? null : Buffer.from(JSON.stringify(value)),
  partition: 0,
  offset: offset++,
});

describe('KafkaConfigStore (Connect config topic records)', () => {
  it('applies connector, target state and committed task configs', () => {
    const changes: string[] = [];
    const s = new KafkaConfigStore(logger, { onChange: (c) => changes.push(c) });
    s.apply(rec('target-state-my-conn', { state: 'PAUSED', 'state.v2': 'STOPPED' }));
    s.apply(rec('connector-my-conn', { properties: { 'connector.class': 'X', 'tasks.max': '2' } }));
    expect(s.get('my-conn')).toEqual({
      config: { 'connector.class': 'X', 'tasks.max': '2' },
      targetState: 'STOPPED',
      taskConfigs: [],
    });
    s.apply(rec('task-my-conn-0', { properties: { t: '0' } }));
    s.apply(rec('task-my-conn-1', { properties: { t: '1' } }));
    // Not applied before the commit record.
    expect(s.get('my-conn')!.taskConfigs).toEqual([]);
    s.apply(rec('commit-my-conn', { tasks: 2 }));
    expect(s.get('my-conn')!.taskConfigs).toEqual([{ t: '0' }, { t: '1' }]);
    s.apply(rec('connector-my-conn', null));
    expect(s.get('my-conn')).toBeUndefined();
    expect(changes.filter((c) => c === 'my-conn').length).toBeGreaterThanOrEqual(3);
  });

  it('exactly-once: new task configs wait for the fencing of every earlier task generation', () => {
    const s = new KafkaConfigStore(logger);
    s.apply(rec('connector-f', { properties: {} }));
    expect(s.pendingFencing('f')).toBeNull();
    for (let i = 0; i < 3; i++) s.apply(rec(`task-f-${i}`, { properties: { i: String(i) } }));
    s.apply(rec('commit-f', { tasks: 3 }));
    expect(s.pendingFencing('f')).toBe(3);
    s.apply(rec('tasks-fencing-f', { 'task-count': 3 }));
    expect(s.pendingFencing('f')).toBeNull();
    // Fewer tasks: the ids of the tasks that are gone are fenced too (their tables moved to the others).
    s.apply(rec('task-f-0', { properties: { i: 'all' } }));
    s.apply(rec('commit-f', { tasks: 1 }));
    expect(s.pendingFencing('f')).toBe(3);
    s.apply(rec('tasks-fencing-f', { 'task-count': 1 }));
    expect(s.pendingFencing('f')).toBeNull();
  });

  it('keeps the previous task configs when a commit refers to a missing task record', () => {
    const s = new KafkaConfigStore(logger);
    s.apply(rec('connector-c', { properties: {} }));
    s.apply(rec('task-c-0', { properties: { a: '1' } }));
    s.apply(rec('commit-c', { tasks: 1 }));
    s.apply(rec('task-c-1', { properties: { a: '2' } }));
    s.apply(rec('commit-c', { tasks: 2 }));
    expect(s.get('c')!.taskConfigs).toEqual([{ a: '1' }]);
    expect(s.inconsistent.has('c')).toBe(true);
  });

  it('writes STOPPED as state PAUSED for older workers', () => {
    expect(targetStateValue('STOPPED')).toEqual({ state: 'PAUSED', 'state.v2': 'STOPPED' });
    expect(targetStateValue('STARTED')).toEqual({ state: 'STARTED', 'state.v2': 'STARTED' });
  });

  it('hands restart requests to the listener', () => {
    const restarts: unknown[] = [];
    const s = new KafkaConfigStore(logger, { onRestart: (r) => restarts.push(r) });
    s.apply(rec('restart-connector-c', { 'include-tasks': true, 'only-failed': false }));
    expect(restarts).toEqual([{ connector: 'c', includeTasks: true, onlyFailed: false }]);
  });
});

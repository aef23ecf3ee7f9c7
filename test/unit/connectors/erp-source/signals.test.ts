import { describe, expect, it } from 'vitest';
import { DataError } from '../../../../runtime/api/index.js';
import { digestOf } from '../../../../connectors/erp-source/signal-digest.js';
import {
  applySignals,
  emptySignalState,
  newestSignalState,
  parseSignal,
  storedSignalState,
} from '../../../../connectors/erp-source/signals.js';

const exec = (id: string, tables: string[]) => ({
  id,
  type: 'execute-snapshot',
  data: JSON.stringify({ 'data-collections': tables, type: 'incremental' }),
});

describe('parseSignal', () => {
  it("reads Debezium's execute-snapshot shape, qualifying bare names with the default schema", () => {
    expect(parseSignal(exec('sig-1', ['public.shipment', 'invoice']), 'public')).toEqual({
      id: 'sig-1',
      kind: 'execute-snapshot',
      tables: ['public.shipment', 'public.invoice'],
    });
  });

  it('treats a missing snapshot type as incremental and a stop-snapshot without collections as stop-all', () => {
    expect(parseSignal({ id: 'a', type: 'execute-snapshot', data: '{"data-collections":["s.t"]}' }, 'x')).toMatchObject(
      {
        kind: 'execute-snapshot',
      },
    );
    expect(parseSignal({ id: 'b', type: 'stop-snapshot', data: null }, 'x')).toEqual({
      id: 'b',
      kind: 'stop-snapshot',
      tables: null,
    });
  });

  it('ignores other signal types and blocking snapshots, saying why', () => {
    expect(parseSignal({ id: 'c', type: 'log', data: '{"message":"hi"}' }, 'x')).toMatchObject({ kind: 'ignored' });
    const blocking = parseSignal(
      { id: 'd', type: 'execute-snapshot', data: '{"data-collections":["s.t"],"type":"blocking"}' },
      'x',
    );
    expect(blocking).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('incremental only') });
  });

  it('rejects malformed data with a DataError naming the signal', () => {
    expect(() => parseSignal({ id: 'e', type: 'execute-snapshot', data: '{nope' }, 'x')).toThrow(DataError);
    expect(() => parseSignal({ id: 'e', type: 'execute-snapshot', data: '{nope' }, 'x')).toThrow(/"e"/);
    expect(() => parseSignal({ id: 'f', type: 'execute-snapshot', data: '{"data-collections":"s.t"}' }, 'x')).toThrow(
      /data-collections/,
    );
  });
});

describe('applySignals', () => {
  const captured = new Set(['s.a', 's.b']);

  it('queues only the tables this task captures, once per signal id', () => {
    const state = emptySignalState();
    const sig = parseSignal(exec('1', ['s.a', 's.other']), 's');
    const r = applySignals(state, [sig], captured);
    expect(r.changed).toBe(true);
    expect(r.actions).toEqual([{ signal: '1', snapshot: ['s.a'], not_captured_here: ['s.other'] }]);
    expect(state.queue).toEqual([{ table: 's.a', last_key: null, rows: 0 }]);
    state.queue[0]!.last_key = ['7'];
    expect(applySignals(state, [sig], captured).changed).toBe(false);
    expect(state.queue[0]!.last_key).toEqual(['7']);
  });

  it('forgets ids no longer in the signal table (bounded) and restarts a re-signalled table from the start', () => {
    const state = emptySignalState();
    applySignals(state, [parseSignal(exec('1', ['s.a']), 's')], captured);
    state.queue[0]!.last_key = ['9'];
    applySignals(state, [parseSignal(exec('2', ['s.a', 's.b']), 's')], captured);
    expect(state.done).toEqual(['2']);
    expect(state.queue).toEqual([
      { table: 's.a', last_key: null, rows: 0 },
      { table: 's.b', last_key: null, rows: 0 },
    ]);
  });

  it('stop-snapshot removes the named tables, or all without names', () => {
    const state = emptySignalState();
    const start = parseSignal(exec('1', ['s.a', 's.b']), 's');
    applySignals(
      state,
      [start, parseSignal({ id: '2', type: 'stop-snapshot', data: '{"data-collections":["s.a"]}' }, 's')],
      captured,
    );
    expect(state.queue.map((q) => q.table)).toEqual(['s.b']);
    applySignals(state, [start, parseSignal({ id: '3', type: 'stop-snapshot', data: '' }, 's')], captured);
    expect(state.queue).toEqual([]);
  });
});

describe('newestSignalState', () => {
  it('picks the stored copy with the highest step and ignores anything malformed', () => {
    const older = { step: 3, done: ['1'], queue: [{ table: 's.a', last_key: ['2'], rows: 2 }] };
    const newer = { step: 5, done: ['1'], queue: [{ table: 's.a', last_key: ['6'], rows: 6 }] };
    expect(newestSignalState([undefined, older, 'x', newer, { step: 9 }])).toEqual(newer);
    expect(newestSignalState([])).toEqual(emptySignalState());
  });
});

describe('signal bookkeeping across restarts (offsets carry a digest, not the ids)', () => {
  const captured = new Set(['s.a', 's.b']);
  const sig = (id: string, table = 's.a') => parseSignal(exec(id, [table]), 's');
  /** What an offset written now holds, through JSON as the offset store keeps it. */
  const offsetOf = (state: ReturnType<typeof emptySignalState>) =>
    JSON.parse(JSON.stringify(storedSignalState(state, digestOf(state.done)))) as unknown;

  it('keeps the stored state the same size after 2,000 signals', () => {
    const state = emptySignalState();
    applySignals(state, [sig('first')], captured);
    const early = JSON.stringify(offsetOf(state)).length;
    const table = [sig('first')];
    for (let i = 0; i < 2000; i++) {
      table.push(sig(`sig-${i}`, i % 2 ? 's.a' : 's.other'));
      if (i % 50 === 0) applySignals(state, table, captured);
    }
    applySignals(state, table, captured);
    expect(state.done).toHaveLength(2001);
    const late = JSON.stringify(offsetOf(state)).length;
    expect(late).toBeLessThan(1300);
    expect(late).toBeLessThan(early + 1100); // bounded by the digest's fixed cell count, not by the ids
    expect(JSON.stringify(offsetOf(state))).not.toContain('sig-1');
  });

  it('after a restart acts exactly on the signals the stored offset did not cover: arrivals in any id order', () => {
    const state = emptySignalState();
    const table = Array.from({ length: 300 }, (_, i) => sig(`sig-${i}`));
    applySignals(state, table, captured);
    state.queue = [];
    const flushed = offsetOf(state);
    // Acted on after the last flushed offset (then a crash): 'sig-1000' sorts below 'sig-299' as text.
    const late = [sig('sig-1000', 's.b'), sig('0-early', 's.a')];
    applySignals(state, [...table, ...late], captured);
    // Inserted while the task was down, and one old row deleted by the user.
    const whileDown = [sig('aaa', 's.b')];
    const now = [...table.slice(1), ...late, ...whileDown];

    const restarted = newestSignalState([flushed]);
    const r = applySignals(restarted, now, captured);
    expect(r.actions.map((a) => a.signal).sort()).toEqual(['0-early', 'aaa', 'sig-1000']);
    expect(restarted.queue.map((q) => q.table).sort()).toEqual(['s.a', 's.b']);
    // Once resolved, nothing runs twice, and a restart from the newest offset runs nothing.
    expect(applySignals(restarted, now, captured).actions).toEqual([]);
    const again = newestSignalState([flushed, offsetOf(restarted)]);
    expect(applySignals(again, now, captured).actions).toEqual([]);
  });

  it('acts on every signal again (at least once, with a warning) when the difference is too large to decode', () => {
    const state = emptySignalState();
    const table = Array.from({ length: 20 }, (_, i) => sig(`sig-${i}`));
    applySignals(state, table, captured);
    const restarted = newestSignalState([offsetOf(state)]);
    const now = [...table, ...Array.from({ length: 100 }, (_, i) => sig(`late-${i}`))];
    const r = applySignals(restarted, now, captured);
    expect(r.actions[0]).toMatchObject({ signals_unresolved: 120 });
    expect(r.actions.filter((a) => a.signal !== undefined)).toHaveLength(120);
    expect(applySignals(restarted, now, captured).actions).toEqual([]);
  });

  it('in that fallback applies stops before executes, so an old stop cannot cancel a requested snapshot', () => {
    const stop = parseSignal({ id: 'zz-stop', type: 'stop-snapshot', data: '' }, 's');
    const table = [sig('a-exec', 's.a'), stop];
    const state = emptySignalState();
    applySignals(state, table, captured);
    expect(state.queue).toEqual([]);
    const restarted = newestSignalState([offsetOf(state)]);
    const now = [...table, ...Array.from({ length: 100 }, (_, i) => sig(`late-${i}`, 's.b'))];
    applySignals(restarted, now, captured);
    expect(restarted.queue.map((q) => q.table).sort()).toEqual(['s.a', 's.b']);
  });

  it('loads an offset written before the digest (the ids as a list) and acts only on ids not in it', () => {
    const legacy = { step: 4, done: ['1', '2', '3'], queue: [{ table: 's.a', last_key: ['5'], rows: 5 }] };
    const state = newestSignalState([JSON.parse(JSON.stringify(legacy))]);
    expect(state.queue).toEqual(legacy.queue);
    const r = applySignals(state, [sig('1'), sig('2'), sig('3'), sig('4', 's.b')], captured);
    expect(r.actions.map((a) => a.signal)).toEqual(['4']);
    expect(state.queue.map((q) => q.table)).toEqual(['s.a', 's.b']);
    expect(offsetOf(state)).not.toHaveProperty('done'); // written back in the new format
  });
});

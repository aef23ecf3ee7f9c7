import { describe, expect, it } from 'vitest';
import { DataError } from '../../../../runtime/api/index.js';
import {
  applySignals,
  emptySignalState,
  newestSignalState,
  parseSignal,
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

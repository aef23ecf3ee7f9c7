import { describe, expect, it } from 'vitest';
import { DataError } from '../../../../runtime/api/index.js';
import {
  EmittedWindow,
  comparePositions,
  microsText,
  timestampMicros,
} from '../../../../connectors/erp-source/timestamp-incrementing.js';

describe('timestamp_incrementing positions', () => {
  it('reads server timestamp text exactly, to the microsecond, with or without a zone', () => {
    const base = BigInt(Date.UTC(2026, 10, 22, 6, 30, 1)) * 1000n;
    expect(timestampMicros('2026-11-22 06:30:01.123456', 'updated_at')).toBe(base + 123456n);
    expect(timestampMicros('2026-11-22 06:30:01.123456+00', 'updated_at')).toBe(base + 123456n);
    expect(timestampMicros('2026-11-22 08:30:01.5+02:00', 'updated_at')).toBe(base + 500000n);
    expect(timestampMicros('2026-11-22T06:30:01', 'updated_at')).toBe(base);
    expect(timestampMicros(new Date(Date.UTC(2026, 10, 22, 6, 30, 1, 7)), 'updated_at')).toBe(base + 7000n);
  });

  it('formats µs back to a UTC literal that round-trips', () => {
    const m = timestampMicros('2026-11-22 06:30:01.000042', 'ts');
    expect(microsText(m)).toBe('2026-11-22 06:30:01.000042');
    expect(timestampMicros(microsText(m), 'ts')).toBe(m);
  });

  it('names the column and value of an unreadable timestamp', () => {
    expect(() => timestampMicros('yesterday', 'updated_at')).toThrow(DataError);
    expect(() => timestampMicros('yesterday', 'updated_at')).toThrow(/updated_at.*"yesterday"/);
  });

  it('orders by timestamp, then id numerically; a null id means "all ids of that timestamp"', () => {
    expect(comparePositions({ ts: '10', id: '9' }, { ts: '10', id: '10' })).toBe(-1);
    expect(comparePositions({ ts: '9', id: '99' }, { ts: '10', id: '1' })).toBe(-1);
    expect(comparePositions({ ts: '10', id: null }, { ts: '10', id: '999' })).toBe(1);
    expect(comparePositions({ ts: '10', id: '5' }, { ts: '10', id: '5' })).toBe(0);
  });

  it('remembers emitted (timestamp, id) pairs only inside the window', () => {
    const w = new EmittedWindow();
    w.add({ ts: '100', id: '1' });
    w.add({ ts: '200', id: '1' });
    expect(w.has({ ts: '100', id: '1' })).toBe(true);
    expect(w.has({ ts: '100', id: '2' })).toBe(false);
    w.prune(150n);
    expect(w.has({ ts: '100', id: '1' })).toBe(false);
    expect(w.has({ ts: '200', id: '1' })).toBe(true);
    expect(w.size).toBe(1);
  });
});

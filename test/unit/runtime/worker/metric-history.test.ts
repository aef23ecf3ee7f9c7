import { describe, expect, it } from 'vitest';
import { MetricHistory, mergeSeries } from '../../../../runtime/worker/metric-history.js';
import { WorkerMetrics } from '../../../../runtime/worker/metrics.js';
import { envelopeSourceTsMs } from '../../../../runtime/worker/source-task.js';
import { SchemaBuilder, Struct } from '../../../../runtime/api/index.js';

const T0 = 1_700_000_000_000;

describe('MetricHistory', () => {
  it('turns counters into per-second rates, lags into means per step, and resets the lags each step', () => {
    const metrics = new WorkerMetrics();
    const h = new MetricHistory(metrics, { stepMs: 5000 });
    const sink = metrics.task('acme-sink', 0);
    h.sample(T0);
    sink.polled(100);
    sink.put(50);
    sink.progress({ delivered: 40, parked: 7 });
    sink.deliveryLag(100);
    sink.deliveryLag(300);
    h.sample(T0 + 5000);
    h.sample(T0 + 10_000); // nothing happened in this step
    const s = h.series(h.samples(60, T0 + 10_000), () => 'sink');
    expect(s.recordsInPerSec).toEqual([
      [T0, 0],
      [T0 + 5000, 20],
      [T0 + 10_000, 0],
    ]);
    // LookupSink's own `delivered` count wins over put(): parked records were put but not delivered.
    expect(s.recordsOutPerSec[1]).toEqual([T0 + 5000, 8]);
    expect(s.deliveryLagMs.map(([, v]) => v)).toEqual([null, 200, null]);
    expect(s.parked.map(([, v]) => v)).toEqual([null, 7, 7]);
  });

  it('a restarted task (counters from zero again) gives no negative rate', () => {
    const metrics = new WorkerMetrics();
    const h = new MetricHistory(metrics, { stepMs: 1000 });
    metrics.task('c', 0).progress({ delivered: 500 });
    h.sample(T0);
    metrics.task('c', 0).progress({ delivered: 3 });
    h.sample(T0 + 1000);
    expect(h.series(h.samples(60, T0 + 1000), () => 'sink').recordsOutPerSec[1]).toEqual([T0 + 1000, 0]);
  });

  it('keeps one hour at most, whatever runs for how long (a bounded ring)', () => {
    const metrics = new WorkerMetrics();
    const h = new MetricHistory(metrics, { stepMs: 5000 });
    for (let i = 0; i < 50; i++) metrics.task(`connector-${i}`, 0).polled(1);
    for (let i = 0; i < 3 * 720; i++) h.sample(T0 + i * 5000);
    const now = T0 + (3 * 720 - 1) * 5000;
    const all = h.samples(60, now);
    expect(h.capacity).toBe(720);
    expect(all.length).toBeLessThanOrEqual(721);
    expect(all.length).toBeGreaterThanOrEqual(719);
    // Oldest first, ending with the latest sample.
    expect(all.at(-1)!.t).toBe(now);
    expect(all.every((s, i) => i === 0 || s.t > all[i - 1]!.t)).toBe(true);
    expect(h.samples(5, now).length).toBe(61);
  });

  it("a customer's series: sinks add up, sources give the capture lag (the worst), others are left out", () => {
    const metrics = new WorkerMetrics();
    const h = new MetricHistory(metrics, { stepMs: 1000 });
    h.sample(T0);
    metrics.task('src', 0).captureLag(1000);
    metrics.task('src', 1).captureLag(3000);
    metrics.task('acme-a', 0).progress({ parked: 2 });
    metrics.task('acme-b', 0).progress({ parked: 3 });
    metrics.task('globex', 0).progress({ parked: 100 });
    h.sample(T0 + 1000);
    const roles: Record<string, 'source' | 'sink' | null> = { src: 'source', 'acme-a': 'sink', 'acme-b': 'sink' };
    const s = h.series(h.samples(60, T0 + 1000), (c) => roles[c] ?? null);
    expect(s.parked[1]).toEqual([T0 + 1000, 5]);
    expect(s.captureLagMs[1]).toEqual([T0 + 1000, 2000]);
  });

  it('capture and delivery lags reach /metrics as gauges', () => {
    const metrics = new WorkerMetrics();
    metrics.task('src', 0).captureLag(1500);
    metrics.task('snk', 0).deliveryLag(250);
    const text = metrics.render();
    expect(text).toContain('erpstream_task_capture_lag_seconds{connector="src",task="0"} 1.5');
    expect(text).toContain('erpstream_task_delivery_lag_seconds{connector="snk",task="0"} 0.25');
  });
});

describe('mergeSeries (distributed mode: every worker keeps its own history)', () => {
  it('adds rates and parked counts, takes the worst lag, and aligns points that fall in the same step', () => {
    const a = {
      captureLagMs: [[T0 + 100, 50] as [number, number | null]],
      deliveryLagMs: [[T0 + 100, null] as [number, number | null]],
      recordsInPerSec: [[T0 + 100, 2] as [number, number | null]],
      recordsOutPerSec: [[T0 + 100, 1] as [number, number | null]],
      parked: [[T0 + 100, null] as [number, number | null]],
    };
    const b = {
      captureLagMs: [[T0 + 900, 80] as [number, number | null]],
      deliveryLagMs: [[T0 + 900, 30] as [number, number | null]],
      recordsInPerSec: [[T0 + 900, 3] as [number, number | null]],
      recordsOutPerSec: [[T0 + 900, 4] as [number, number | null], [T0 + 5900, 1] as [number, number | null]],
      parked: [[T0 + 900, 6] as [number, number | null]],
    };
    const m = mergeSeries([a, b], 5000);
    const step = Math.floor((T0 + 100) / 5000) * 5000;
    expect(m.captureLagMs).toEqual([[step, 80]]);
    expect(m.deliveryLagMs).toEqual([[step, 30]]);
    expect(m.recordsInPerSec).toEqual([[step, 5]]);
    expect(m.recordsOutPerSec).toEqual([
      [step, 5],
      [step + 5000, 1],
    ]);
    expect(m.parked).toEqual([[step, 6]]);
  });
});

describe('envelopeSourceTsMs (capture lag reads the Debezium envelope, nothing connector-specific)', () => {
  const source = SchemaBuilder.struct().field('ts_ms', SchemaBuilder.int64().build()).build();
  const envelope = SchemaBuilder.struct()
    .field('after', SchemaBuilder.string().optional().build())
    .field('source', source)
    .build();

  it('finds source.ts_ms (int64 as bigint or number)', () => {
    const v = new Struct(envelope).put('after', 'x').put('source', new Struct(source).put('ts_ms', BigInt(T0)));
    expect(envelopeSourceTsMs(v)).toBe(T0);
  });

  it('is null for anything else: strings, maps, structs without source or ts_ms, tombstones', () => {
    const noTs = SchemaBuilder.struct()
      .field('source', SchemaBuilder.struct().field('db', SchemaBuilder.string().build()).build())
      .build();
    const other = SchemaBuilder.struct().field('id', SchemaBuilder.int32().build()).build();
    expect(envelopeSourceTsMs(null)).toBeNull();
    expect(envelopeSourceTsMs('text')).toBeNull();
    expect(envelopeSourceTsMs({ source: { ts_ms: T0 } })).toBeNull();
    expect(envelopeSourceTsMs(new Struct(other).put('id', 1))).toBeNull();
    const db = noTs.fields![0]!.schema;
    expect(envelopeSourceTsMs(new Struct(noTs).put('source', new Struct(db).put('db', 'erp')))).toBeNull();
  });
});

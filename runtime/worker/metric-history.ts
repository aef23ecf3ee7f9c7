import type { TaskSnapshot, WorkerMetrics } from './metrics.js';

/**
 * The last hour of this worker's connector figures, for the console's plots (GET /erpstream/v1/metrics/history).
 * A fixed-size ring: one sample per `stepMs` (5 s by default), `windowMs / stepMs` samples at most (720), each
 * holding a few numbers per connector, so memory stays bounded whatever runs. Samples are per connector; the
 * REST layer sums them per customer (it knows which connector belongs to whom).
 */

/** One connector's figures over one step. Rates are per second; lags are means over the step (null: none seen). */
export interface ConnectorSample {
  /** Records read: from the origin (source) or from Kafka (sink). */
  inPerSec: number;
  /** Records written: acknowledged by Kafka (source), delivered to the destination (sink). */
  outPerSec: number;
  captureLagMs: number | null;
  deliveryLagMs: number | null;
  /** Parked records the connector's tasks last reported (null: the connector does not park). */
  parked: number | null;
}

export interface Sample {
  /** epoch ms */
  t: number;
  connectors: Map<string, ConnectorSample>;
}

export type Point = [t: number, v: number | null];

export interface HistorySeries {
  captureLagMs: Point[];
  deliveryLagMs: Point[];
  recordsInPerSec: Point[];
  recordsOutPerSec: Point[];
  parked: Point[];
}

/** How a connector's samples add into a customer's series: sources give capture lag, sinks the rest. */
export type ConnectorRole = 'source' | 'sink';

interface Totals {
  inCount: number;
  outCount: number;
}

export class MetricHistory {
  readonly stepMs: number;
  readonly capacity: number;
  private readonly ring: Sample[] = [];
  private next = 0;
  private previous = new Map<string, Totals>();
  private previousT = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly metrics: WorkerMetrics,
    options: { stepMs?: number; windowMs?: number } = {},
  ) {
    this.stepMs = options.stepMs ?? 5000;
    this.capacity = Math.max(1, Math.ceil((options.windowMs ?? 3_600_000) / this.stepMs));
  }

  start(): void {
    if (this.timer) return;
    this.sample(); // the baseline for the first rates
    this.timer = setInterval(() => this.sample(), this.stepMs);
    this.timer.unref(); // never the reason the process stays up
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Takes one sample now (the timer calls it; tests call it with their own clock). */
  sample(now = Date.now()): void {
    const byConnector = new Map<string, TaskSnapshot[]>();
    for (const t of this.metrics.snapshot()) {
      const list = byConnector.get(t.connector) ?? [];
      list.push(t);
      byConnector.set(t.connector, list);
    }
    const dt = this.previousT > 0 ? (now - this.previousT) / 1000 : 0;
    const totals = new Map<string, Totals>();
    const connectors = new Map<string, ConnectorSample>();
    for (const [name, tasks] of byConnector) {
      const cur: Totals = { inCount: 0, outCount: 0 };
      let parked: number | null = null;
      const capture: number[] = [];
      const delivery: number[] = [];
      for (const t of tasks) {
        cur.inCount += t.polled;
        // A sink's "out" is what reached the destination when the connector counts it (LookupSink's
        // `delivered`), else what put() took.
        const delivered = numeric(t.progress?.delivered);
        cur.outCount += t.produced + (delivered ?? t.put);
        const p = numeric(t.progress?.parked);
        if (p !== null) parked = (parked ?? 0) + p;
        if (t.captureLagMs !== null) capture.push(t.captureLagMs);
        if (t.deliveryLagMs !== null) delivery.push(t.deliveryLagMs);
      }
      totals.set(name, cur);
      const prev = this.previous.get(name);
      // A restarted task starts its counters again: a drop is "no progress seen", never a negative rate.
      const rate = (a: number, b: number | undefined) => (dt > 0 && b !== undefined ? Math.max(0, a - b) / dt : 0);
      connectors.set(name, {
        inPerSec: rate(cur.inCount, prev?.inCount),
        outPerSec: rate(cur.outCount, prev?.outCount),
        captureLagMs: mean(capture),
        deliveryLagMs: mean(delivery),
        parked,
      });
    }
    this.previous = totals;
    this.previousT = now;
    const s: Sample = { t: now, connectors };
    if (this.ring.length < this.capacity) this.ring.push(s);
    else this.ring[this.next] = s;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The samples of the last `minutes`, oldest first. */
  samples(minutes = 60, now = Date.now()): Sample[] {
    const since = now - minutes * 60_000;
    const ordered =
      this.ring.length < this.capacity ? this.ring : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return ordered.filter((s) => s.t >= since);
  }

  /**
   * The series of a set of connectors: rates and parked counts add up, lags take the worst connector. `role`
   * says which connectors are sources (their lag is the capture lag; their records are not the customer's
   * in/out, which the sinks count).
   */
  series(samples: readonly Sample[], include: (connector: string) => ConnectorRole | null): HistorySeries {
    const out: HistorySeries = {
      captureLagMs: [],
      deliveryLagMs: [],
      recordsInPerSec: [],
      recordsOutPerSec: [],
      parked: [],
    };
    for (const s of samples) {
      let inRate = 0;
      let outRate = 0;
      let parked: number | null = null;
      let capture: number | null = null;
      let delivery: number | null = null;
      for (const [name, c] of s.connectors) {
        const role = include(name);
        if (role === null) continue;
        if (role === 'source') {
          if (c.captureLagMs !== null) capture = Math.max(capture ?? 0, c.captureLagMs);
          continue;
        }
        inRate += c.inPerSec;
        outRate += c.outPerSec;
        if (c.parked !== null) parked = (parked ?? 0) + c.parked;
        if (c.deliveryLagMs !== null) delivery = Math.max(delivery ?? 0, c.deliveryLagMs);
      }
      out.captureLagMs.push([s.t, round(capture)]);
      out.deliveryLagMs.push([s.t, round(delivery)]);
      out.recordsInPerSec.push([s.t, round(inRate)]);
      out.recordsOutPerSec.push([s.t, round(outRate)]);
      out.parked.push([s.t, parked]);
    }
    return out;
  }
}

/**
 * Several workers' series of the same customer as one (distributed mode): points fall into `stepMs` buckets;
 * rates and parked counts add up, lags take the worst worker.
 */
export function mergeSeries(list: readonly HistorySeries[], stepMs: number): HistorySeries {
  const merge = (pick: (s: HistorySeries) => Point[], how: 'sum' | 'max'): Point[] => {
    const buckets = new Map<number, number | null>();
    for (const s of list) {
      for (const [t, v] of pick(s)) {
        const b = Math.floor(t / stepMs) * stepMs;
        const prev = buckets.has(b) ? buckets.get(b)! : null;
        buckets.set(b, v === null ? prev : prev === null ? v : how === 'sum' ? prev + v : Math.max(prev, v));
      }
    }
    return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => [t, round(v)]);
  };
  return {
    captureLagMs: merge((s) => s.captureLagMs, 'max'),
    deliveryLagMs: merge((s) => s.deliveryLagMs, 'max'),
    recordsInPerSec: merge((s) => s.recordsInPerSec, 'sum'),
    recordsOutPerSec: merge((s) => s.recordsOutPerSec, 'sum'),
    parked: merge((s) => s.parked, 'sum'),
  };
}

function numeric(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function mean(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

function round(v: number | null): number | null {
  return v === null ? null : Math.round(v * 100) / 100;
}

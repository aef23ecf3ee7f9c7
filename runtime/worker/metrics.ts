import type { WaitingStatus } from '../errors/outage.js';

/**
 * Prometheus metrics per connector and task, rendered in the text exposition format at /metrics.
 * Counters only grow; the DLQ count is read from each task's reporter when scraped.
 */
interface TaskCounters {
  polled: number;
  produced: number;
  put: number;
  offsetCommits: number;
  offsetCommitMsSum: number;
  dlq: () => number;
  progress: Record<string, unknown> | undefined;
  waiting: WaitingStatus | null;
  captureLag: LagStats;
  deliveryLag: LagStats;
}

/**
 * Lags observed since the history last sampled them (`sum`/`count`/`max`), and the last one seen (the
 * Prometheus gauge). Capture lag: origin change time (the Debezium envelope's `source.ts_ms`) to Kafka's ack.
 * Delivery lag: the Kafka record's timestamp to the end of the sink's put() for it.
 */
export interface LagStats {
  sum: number;
  count: number;
  max: number;
  last: number | null;
}

const emptyLag = (): LagStats => ({ sum: 0, count: 0, max: 0, last: null });

/** A task's counters as the metric history reads them. */
export interface TaskSnapshot {
  connector: string;
  task: number;
  polled: number;
  produced: number;
  put: number;
  progress: Record<string, unknown> | undefined;
  /** Mean lag since the previous snapshot (null: none observed), then reset. */
  captureLagMs: number | null;
  deliveryLagMs: number | null;
}

export interface TaskMetrics {
  polled(n: number): void;
  produced(n: number): void;
  put(n: number): void;
  offsetCommit(ms: number): void;
  dlq(read: () => number): void;
  progress(info: Record<string, unknown>): void;
  /** The task waits for an outage (null: no longer). */
  waiting(w: WaitingStatus | null): void;
  captureLag(ms: number): void;
  deliveryLag(ms: number): void;
}

function observe(l: LagStats, ms: number): void {
  const v = Math.max(0, ms); // clocks of the ERP and of this host may disagree by a little
  l.sum += v;
  l.count++;
  if (v > l.max) l.max = v;
  l.last = v;
}

function drain(l: LagStats): number | null {
  if (l.count === 0) return null;
  const mean = l.sum / l.count;
  l.sum = 0;
  l.count = 0;
  l.max = 0;
  return mean;
}

export class WorkerMetrics {
  private readonly tasks = new Map<string, { connector: string; task: number; c: TaskCounters }>();

  task(connector: string, task: number): TaskMetrics {
    const key = `${connector}\0${task}`;
    let entry = this.tasks.get(key);
    if (!entry) {
      entry = {
        connector,
        task,
        c: {
          polled: 0,
          produced: 0,
          put: 0,
          offsetCommits: 0,
          offsetCommitMsSum: 0,
          dlq: () => 0,
          progress: undefined,
          waiting: null,
          captureLag: emptyLag(),
          deliveryLag: emptyLag(),
        },
      };
      this.tasks.set(key, entry);
    }
    const c = entry.c;
    return {
      polled: (n) => void (c.polled += n),
      produced: (n) => void (c.produced += n),
      put: (n) => void (c.put += n),
      offsetCommit: (ms) => {
        c.offsetCommits++;
        c.offsetCommitMsSum += ms;
      },
      dlq: (read) => void (c.dlq = read),
      progress: (info) => void (c.progress = info),
      waiting: (w) => void (c.waiting = w),
      captureLag: (ms) => observe(c.captureLag, ms),
      deliveryLag: (ms) => observe(c.deliveryLag, ms),
    };
  }

  /** Every task's counters, draining the lags observed since the last call (the metric history's sampler). */
  snapshot(): TaskSnapshot[] {
    return [...this.tasks.values()].map(({ connector, task, c }) => ({
      connector,
      task,
      polled: c.polled,
      produced: c.produced,
      put: c.put,
      progress: c.progress,
      captureLagMs: drain(c.captureLag),
      deliveryLagMs: drain(c.deliveryLag),
    }));
  }

  /** What a task waits for, if it waits for an outage. */
  waitingOf(connector: string, task: number): WaitingStatus | null {
    return this.tasks.get(`${connector}\0${task}`)?.c.waiting ?? null;
  }

  /** The latest progress report of a task, if it made one. */
  progressOf(connector: string, task: number): Record<string, unknown> | undefined {
    return this.tasks.get(`${connector}\0${task}`)?.c.progress;
  }

  removeConnector(connector: string): void {
    for (const [k, v] of this.tasks) if (v.connector === connector) this.tasks.delete(k);
  }

  render(): string {
    const families: Array<[string, string, string, (c: TaskCounters) => number]> = [
      ['erpstream_task_records_polled_total', 'counter', 'Records polled (source) or consumed (sink)', (c) => c.polled],
      ['erpstream_task_records_produced_total', 'counter', 'Records acknowledged by Kafka (source)', (c) => c.produced],
      ['erpstream_task_records_put_total', 'counter', 'Records handed to put() (sink)', (c) => c.put],
      ['erpstream_task_offset_commits_total', 'counter', 'Offset commits', (c) => c.offsetCommits],
      [
        'erpstream_task_offset_commit_seconds_sum',
        'counter',
        'Time spent committing offsets',
        (c) => c.offsetCommitMsSum / 1000,
      ],
      ['erpstream_task_dlq_records_total', 'counter', 'Records written to the dead letter queue', (c) => c.dlq()],
      [
        'erpstream_task_outage_wait_seconds',
        'gauge',
        'How long the task has been waiting for a broker, registry or database to come back (0: not waiting)',
        (c) => (c.waiting ? Math.max(0, (Date.now() - Date.parse(c.waiting.since)) / 1000) : 0),
      ],
      [
        'erpstream_task_capture_lag_seconds',
        'gauge',
        'Last observed capture lag: origin change time (source.ts_ms) to Kafka acknowledgement (source tasks)',
        (c) => (c.captureLag.last ?? 0) / 1000,
      ],
      [
        'erpstream_task_delivery_lag_seconds',
        'gauge',
        "Last observed delivery lag: Kafka record timestamp to the end of the sink's put() (sink tasks)",
        (c) => (c.deliveryLag.last ?? 0) / 1000,
      ],
    ];
    const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    const lines: string[] = [];
    for (const [name, type, help, read] of families) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const { connector, task, c } of this.tasks.values()) {
        lines.push(`${name}{connector="${esc(connector)}",task="${task}"} ${read(c)}`);
      }
    }
    // Every numeric leaf of a task's progress report, as a gauge named by its path.
    const progressName = 'erpstream_task_progress';
    lines.push(`# HELP ${progressName} Latest progress figures a task reported (snapshot rows, parked records…)`);
    lines.push(`# TYPE ${progressName} gauge`);
    for (const { connector, task, c } of this.tasks.values()) {
      for (const [key, value] of numericLeaves(c.progress)) {
        lines.push(`${progressName}{connector="${esc(connector)}",task="${task}",name="${esc(key)}"} ${value}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

function numericLeaves(value: unknown, prefix = '', out: Array<[string, number]> = []): Array<[string, number]> {
  if (typeof value === 'number' && Number.isFinite(value)) out.push([prefix, value]);
  else if (typeof value === 'bigint') out.push([prefix, Number(value)]);
  else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) numericLeaves(v, prefix ? `${prefix}.${k}` : k, out);
  }
  return out;
}

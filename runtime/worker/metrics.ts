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
}

export interface TaskMetrics {
  polled(n: number): void;
  produced(n: number): void;
  put(n: number): void;
  offsetCommit(ms: number): void;
  dlq(read: () => number): void;
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
        c: { polled: 0, produced: 0, put: 0, offsetCommits: 0, offsetCommitMsSum: 0, dlq: () => 0 },
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
    };
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
    ];
    const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    const lines: string[] = [];
    for (const [name, type, help, read] of families) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const { connector, task, c } of this.tasks.values()) {
        lines.push(`${name}{connector="${esc(connector)}",task="${task}"} ${read(c)}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

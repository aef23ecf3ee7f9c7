import type { Writable } from 'node:stream';

/**
 * Live progress on one line. On a terminal the line is redrawn in place (carriage return + erase); anywhere
 * else (CI logs, pipes) a plain line is written at most every `plainEveryMs`, so logs stay readable.
 */
export class ProgressLine {
  private lastPlain = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(
    private readonly out: Writable & { isTTY?: boolean },
    private readonly options: { plainEveryMs?: number; now?: () => number } = {},
  ) {}

  get interactive(): boolean {
    return this.out.isTTY === true;
  }

  /** Shows `text` (one line, no newline). `force` writes a plain line even if one was written recently. */
  update(text: string, force = false): void {
    if (this.interactive) {
      const columns = (this.out as { columns?: number }).columns ?? 120;
      const line = text.length > columns - 1 ? `${text.slice(0, columns - 2)}…` : text;
      this.out.write(`\r\x1b[2K${line}`);
      this.drawn = true;
      return;
    }
    const now = (this.options.now ?? Date.now)();
    if (force || now - this.lastPlain >= (this.options.plainEveryMs ?? 5000)) {
      this.out.write(`${text}\n`);
      this.lastPlain = now;
    }
  }

  /** Ends the live line so later output starts on a fresh line. */
  done(finalText?: string): void {
    if (finalText !== undefined) this.update(finalText, true);
    if (this.interactive && this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}

/** Records per second over a sliding window of samples. */
export class RateMeter {
  private readonly samples: Array<[number, number]> = [];

  constructor(private readonly windowMs = 5000) {}

  sample(count: number, at = Date.now()): number {
    this.samples.push([at, count]);
    while (this.samples.length > 2 && at - this.samples[0]![0] > this.windowMs) this.samples.shift();
    const [t0, c0] = this.samples[0]!;
    return at > t0 ? ((count - c0) * 1000) / (at - t0) : 0;
  }
}

export interface DemoProgress {
  elapsedMs: number;
  durationMs: number;
  phase: string;
  /** Row changes the operations team wrote (each is one change-table row). */
  written: number;
  /** Records the source connector got acknowledged by Kafka. */
  captured: number;
  /** Distinct origin rows on the customers' destination topics. */
  delivered: number;
  /** Origin rows that should be delivered, so far. */
  expected: number;
  parked: number;
  dlq: number;
  /** Records on the sinks' input topics not yet committed by their consumer groups. */
  lag: number;
  /** Delivered rows per second. */
  rate: number;
}

function seconds(ms: number): string {
  return `${Math.floor(ms / 1000)}s`;
}

export function formatDemoProgress(p: DemoProgress): string {
  return [
    `[${p.phase} ${seconds(p.elapsedMs)}${p.durationMs > 0 ? `/${seconds(p.durationMs)}` : ''}]`,
    `written ${p.written}`,
    `captured ${p.captured}`,
    `delivered ${p.delivered}/${p.expected}`,
    `parked ${p.parked}`,
    `DLQ ${p.dlq}`,
    `lag ${p.lag}`,
    `${p.rate.toFixed(1)} rows/s`,
  ].join('  ');
}

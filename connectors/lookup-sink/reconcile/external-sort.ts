import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * A bounded-memory sort: items are held `runSize` at a time; a full run is sorted and spilled to a temp file as
 * JSON lines, and `sorted()` merges the runs (one line per run in memory). Memory is O(runSize + runs); disk is
 * the items once. Used by reconcile, whose three sides (origin, ledger, destination) come from different databases
 * and a Kafka topic: only an order we impose ourselves is the same on all of them.
 */
export class ExternalSorter<T> {
  private buffer: T[] = [];
  private readonly runs: string[] = [];
  private dir: string | null = null;
  private count = 0;

  constructor(
    private readonly compare: (a: T, b: T) => number,
    private readonly options: { runSize: number; tempDir?: string },
  ) {}

  get size(): number {
    return this.count;
  }

  async add(item: T): Promise<void> {
    this.buffer.push(item);
    this.count++;
    if (this.buffer.length >= this.options.runSize) await this.spill();
  }

  private async spill(): Promise<void> {
    if (this.buffer.length === 0) return;
    this.buffer.sort(this.compare);
    this.dir ??= await mkdtemp(join(this.options.tempDir ?? tmpdir(), 'erpstream-reconcile-'));
    const file = join(this.dir, `run-${this.runs.length}.jsonl`);
    let text = '';
    for (const item of this.buffer) text += `${JSON.stringify(item)}\n`;
    this.buffer = [];
    await writeFile(file, text);
    this.runs.push(file);
  }

  /** Every item in order; the temp files are removed when the iteration ends (or is abandoned). */
  async *sorted(): AsyncGenerator<T> {
    let readers: Array<AsyncGenerator<T>> = [];
    try {
      if (this.runs.length === 0) {
        this.buffer.sort(this.compare);
        const items = this.buffer;
        this.buffer = [];
        yield* items;
        return;
      }
      await this.spill();
      readers = this.runs.map((f) => lines<T>(f));
      const heap = new MinHeap<{ item: T; run: number }>((a, b) => this.compare(a.item, b.item) || a.run - b.run);
      for (let i = 0; i < readers.length; i++) {
        const n = await readers[i]!.next();
        if (!n.done) heap.push({ item: n.value, run: i });
      }
      while (heap.size > 0) {
        const top = heap.pop()!;
        yield top.item;
        const n = await readers[top.run]!.next();
        if (!n.done) heap.push({ item: n.value, run: top.run });
      }
    } finally {
      for (const r of readers) await r.return(undefined);
      await this.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.buffer = [];
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

async function* lines<T>(file: string): AsyncGenerator<T> {
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const line of rl) if (line !== '') yield JSON.parse(line) as T;
  } finally {
    rl.close();
  }
}

/** A binary min-heap (k-way merge of the runs). */
class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}
  get size(): number {
    return this.items.length;
  }
  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(a[i]!, a[p]!) >= 0) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!) < 0) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

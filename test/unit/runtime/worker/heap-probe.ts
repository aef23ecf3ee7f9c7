// Child process of heap-settings.test.ts: relaunches like the CLI entry, then reports what it runs with.
import v8 from 'node:v8';
import { relaunchWithWorkerHeap } from '../../../../runtime/worker/heap-settings.js';

relaunchWithWorkerHeap();
// Short-lived garbage with some survivors, as a source task makes: V8 grows the young generation up to its cap.
let keep: unknown[] = [];
for (let i = 0; i < 2_000_000; i++) {
  keep.push({ i, s: `row ${i}` });
  if (keep.length > 20_000) keep = [];
}
keep = [];
// `churn`: a drain's shape. ~40 MB stays alive while batches that each outlive a few others (so the young
// generation promotes them) come and go; the old generation's peak shows how far V8 lets it grow between full GCs.
let peakOldMb = 0;
if (process.argv.includes('churn')) {
  const live: unknown[] = [];
  for (let i = 0; i < 400_000; i++) live.push({ a: i, b: `s${i}`, c: [i, i + 1] });
  const window: unknown[][] = [];
  for (let batch = 0; batch < 300; batch++) {
    const b: unknown[] = [];
    for (let i = 0; i < 20_000; i++) b.push({ x: i, y: `v${batch}-${i}`, z: [batch, i] });
    window.push(b);
    if (window.length > 4) window.shift();
    const old = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
    peakOldMb = Math.max(peakOldMb, (old?.space_size ?? 0) / 1048576);
  }
  keep = live;
}
const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
process.stdout.write(
  `${JSON.stringify({ pid: process.pid, execArgv: process.execArgv, newSpaceMaxMb: (newSpace?.space_size ?? 0) / 1048576, peakOldMb, kept: keep.length, args: process.argv.slice(2) })}\n`,
);

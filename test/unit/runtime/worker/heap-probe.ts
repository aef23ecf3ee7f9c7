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
const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
process.stdout.write(
  `${JSON.stringify({ pid: process.pid, execArgv: process.execArgv, newSpaceMaxMb: (newSpace?.space_size ?? 0) / 1048576, args: process.argv.slice(2) })}\n`,
);

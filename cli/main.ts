#!/usr/bin/env node
/** Entry point of the `erpstream` command (package.json bin → bin/erpstream.js, which runs this file). */
import { relaunchWithWorkerHeap } from '../runtime/worker/heap-settings.js';

// Before the CLI loads: `worker start` may run again in place with V8 heap flags (see docs/worker.md).
relaunchWithWorkerHeap();
const { runCli } = await import('./program.js');

// `erpstream tail … | head`: the reader went away. Stop like Ctrl-C would (tail deletes its throwaway consumer
// group), print nothing more, and exit 0 as `head`'s pipeline expects; never a stack trace.
let readerGone = false;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  if (readerGone) return;
  readerGone = true;
  process.emit('SIGINT');
  setTimeout(() => process.exit(0), 3000).unref();
});

const code = await runCli(process.argv.slice(2));
process.exitCode = readerGone ? 0 : code;

// Helpers for distributed-worker tests: worker processes, REST calls, reading topics from the beginning.
import type { WorkerProcess } from '../../../support/erpstream-cli.js';

export type { WorkerProcess };
// The start-up helpers live in test/support/worker.ts (shared by every integration test); re-exported for the
// distributed tests that import them from here.
export {
  clusterProps,
  killWorker,
  rest,
  restWhenJoined,
  startWorker,
  stopWorker,
  waitFor,
  writeProps,
} from '../../../support/worker.js';
export { type RawRecord, readTopic } from '../../../support/topics.js';

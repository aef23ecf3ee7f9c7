import { type SinkTaskContext, silentLogger } from '../../runtime/api/index.js';
import type { WorkerSinkTask } from '../../runtime/worker/sink-task.js';

/** The SinkTaskContext the worker gives a task, for a WorkerSinkTask a test builds by hand (offset() rewinds it). */
export function sinkTaskContext(runner: WorkerSinkTask, connectorName: string): SinkTaskContext {
  return {
    taskId: 0,
    connectorName,
    logger: silentLogger,
    status: { progress() {} },
    offset: (offsets) => runner.rewind(offsets),
    pause() {},
    resume() {},
    requestCommit() {},
    errantRecordReporter: null,
    assignment: () => runner.assignment(),
  };
}

import { ErpStreamError } from '../api/index.js';
import type { ConfigTransformer } from '../config-providers/index.js';
import { TASKS_MAX_CONFIG, TASKS_MAX_ENFORCE_CONFIG } from './connector-config.js';
import { taskLimits } from './connector-settings.js';
import type { Worker } from './worker.js';

/**
 * Asks a running Connector for its task configs, within `tasks.max` (Connect's check, including its
 * message). `tasks.max` and `tasks.max.enforce` may be placeholders (`${env:TASKS}`), so they are read from
 * the resolved config; the task configs themselves keep placeholders (Worker.taskConfigs reverse-transforms).
 */
export async function generateTaskConfigs(
  worker: Worker,
  transformer: ConfigTransformer,
  name: string,
  rawConfig: Record<string, string>,
): Promise<Array<Record<string, string>>> {
  const limits: Record<string, string> = {};
  for (const k of [TASKS_MAX_CONFIG, TASKS_MAX_ENFORCE_CONFIG])
    if (rawConfig[k] !== undefined) limits[k] = rawConfig[k];
  const { data: resolved } = await transformer.transform(limits);
  const { tasksMax: maxTasks, enforce } = taskLimits(resolved);
  const configs = await worker.taskConfigs(name, rawConfig, maxTasks);
  if (configs.length > maxTasks && enforce) {
    throw new ErpStreamError(
      'ERPSTREAM_TOO_MANY_TASKS',
      `The connector ${name} has generated ${configs.length} tasks, which is greater than ${maxTasks}, the maximum number of tasks it is configured to create. This behaviour should be considered a bug and is no longer permitted (unless the tasks.max.enforce property is set to false)`,
    );
  }
  return configs;
}

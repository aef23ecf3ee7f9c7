import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { builtinRegistry } from '../../bundle/builtin.js';
import type { PluginRegistry } from '../../runtime/plugins/registry.js';
import { parseWorkerConfig } from '../../runtime/worker/config.js';
import { type RunningWorker, startStandaloneWorker } from '../../runtime/launch/standalone.js';
import { requireEnv } from './env.js';

/** Converter settings the tests use most. */
export const SCHEMALESS_JSON = {
  'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'key.converter.schemas.enable': 'false',
  'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'value.converter.schemas.enable': 'false',
} as const;
export const STRINGS = {
  'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
  'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
} as const;

/**
 * A standalone erpstream worker on the stack's Kafka, in this process: REST on a free 127.0.0.1 port, offsets in a
 * fresh temp dir (returned, for the test's own files), offsets flushed every 200 ms, logs at WARN and dropped.
 */
export async function startTestWorker(
  name: string,
  config: Record<string, string> = {},
  options: { registry?: PluginRegistry; logSink?: (line: string) => void } = {},
): Promise<{ worker: RunningWorker; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `erpstream-it-${name}-`));
  const worker = await startStandaloneWorker({
    config: parseWorkerConfig({
      'bootstrap.servers': requireEnv('KAFKA_BROKERS'),
      listeners: 'http://127.0.0.1:0',
      'offset.storage.file.filename': path.join(dir, 'offsets.json'),
      'offset.flush.interval.ms': '200',
      'log.level': 'WARN',
      ...config,
    }),
    logSink: options.logSink ?? (() => {}),
    registry: options.registry ?? builtinRegistry(),
  });
  return { worker, dir };
}

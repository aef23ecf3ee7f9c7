import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { builtinRegistry } from '../../../../bundle/builtin.js';
import type { PluginRegistry } from '../../../../runtime/plugins/registry.js';
import { parseWorkerConfig } from '../../../../runtime/worker/config.js';
import { type RunningWorker, startStandaloneWorker } from '../../../../runtime/launch/standalone.js';
import { MemoryOperationsLog } from '../../../../runtime/operations/audit-log.js';
import { FakeKafka } from './fake-kafka.js';

export interface Harness {
  worker: RunningWorker;
  kafka: FakeKafka;
  dir: string;
  logs: string[];
  url: string;
  req(
    method: string,
    p: string,
    body?: unknown,
    headers?: Record<string, string>,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON bodies
  ): Promise<{ status: number; body: any; headers: Headers }>;
}

/** A standalone worker on 127.0.0.1:0 with an in-memory Kafka and operations log, and state in a temp dir. */
export async function startHarness(
  extra: Record<string, string> = {},
  options: { dir?: string; kafka?: FakeKafka; registry?: PluginRegistry } = {},
): Promise<Harness> {
  const kafka = options.kafka ?? new FakeKafka();
  const dir = options.dir;
  const stateDir = dir ?? (await mkdtemp(path.join(os.tmpdir(), 'erpstream-worker-')));
  const logs: string[] = [];
  const config = parseWorkerConfig({
    listeners: 'http://127.0.0.1:0',
    'offset.storage.file.filename': path.join(stateDir, 'offsets.json'),
    'offset.flush.interval.ms': '50',
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    ...extra,
  });
  const worker = await startStandaloneWorker({
    config,
    kafka,
    operations: new MemoryOperationsLog(),
    logSink: (l) => logs.push(l),
    registry: options.registry ?? builtinRegistry(),
  });
  const req: Harness['req'] = async (method, p, body, headers = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${worker.url}${p}`, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // non-JSON bodies (e.g. /metrics) stay text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return { worker, kafka, dir: stateDir, logs, url: worker.url, req };
}

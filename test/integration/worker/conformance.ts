/**
 * A REST conformance run: the same requests, in the same order, against any Connect-compatible worker.
 * Each step records the status and a normalized body (worker ids, versions and temp paths replaced), so
 * two workers can be compared step by step. Run it against a URL with:
 *   node --import tsx test/integration/worker/conformance.ts http://127.0.0.1:8083 [http://127.0.0.1:18083]
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { rawHttp, rawRequest } from '../../support/raw-http.js';
import { duringRebalance } from '../../support/worker.js';

export interface StepResult {
  step: string;
  status: number;
  body: unknown;
}

/** Deviations we chose on purpose (docs/worker.md); compared by status only. */
export const KNOWN_DIFFERENCES = new Set([
  'malformed JSON',
  'validate without connector.class',
  'unknown connector.class',
  // Jetty answers these with an HTML "Bad Message 400" page; we answer the same status in the JSON error shape.
  'NUL in the path',
  'malformed escape in the path',
]);

function normalize(value: unknown, replacements: Array<[string, string]>): unknown {
  let text = JSON.stringify(value ?? null);
  for (const [from, to] of replacements) text = text.split(from).join(to);
  text = text.replace(/"worker_id":"[^"]*"/g, '"worker_id":"<worker>"');
  // Statuses carry the plugin's version on Connect 4.x (KIP-891): ours is erpstream's, theirs Kafka's.
  text = text.replace(/"version":"[^"]*"/g, '"version":"<version>"');
  // Each implementation names its own task class.
  text = text.replace(/"task\.class":"[^"]*"/g, '"task.class":"<task class>"');
  return sortKeys(JSON.parse(text));
}

/** Jackson and JS order object keys differently; clients do not care, the comparison should not either. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runConformance(base: string, topic: string): Promise<StepResult[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-conformance-'));
  const input = path.join(dir, 'in.txt');
  await writeFile(input, 'alpha\nbeta\n');
  const name = `conf-${Date.now().toString(36)}`;
  const replacements: Array<[string, string]> = [
    [input, '<input>'],
    [name, '<name>'],
    [topic, '<topic>'],
  ];
  const results: StepResult[] = [];
  const call = async (step: string, method: string, p: string, body?: unknown, contentType = 'application/json') => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers = { 'content-type': contentType };
    }
    const { res, text } = await duringRebalanceAgain(async () => {
      const res = await fetch(`${base}${p}`, init);
      return { res, status: res.status, text: await res.text() };
    });
    let parsed: unknown = text === '' ? null : text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // keep text
    }
    const r = { step, status: res.status, body: normalize(parsed, replacements) };
    results.push(r);
    return r;
  };
  const config = {
    'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector',
    file: input,
    topic,
    'tasks.max': '1',
  };
  /** Polls the connector's status (Connect's comes from its status topic, so it lags) until `settled` holds. */
  const waitForStatus = async (settled: (tasks: Array<{ state: string }> | undefined) => boolean, tries: number) => {
    for (let i = 0; i < tries; i++) {
      const res = await fetch(`${base}/connectors/${name}/status`);
      const s = (await res.json().catch(() => null)) as { tasks?: Array<{ state: string }> } | null;
      if (settled(s?.tasks)) return;
      await sleep(200);
    }
  };
  const waitRunning = () => waitForStatus((tasks) => tasks?.length === 1 && tasks[0]!.state === 'RUNNING', 100);

  await call('unknown path', 'GET', '/no-such-path');
  await call('wrong method', 'DELETE', '/connector-plugins');
  await call('wrong content type', 'POST', '/connectors', 'x=1', 'application/x-www-form-urlencoded');
  await call('malformed JSON', 'POST', '/connectors', '{bad', 'application/json');
  await call('unknown connector', 'GET', '/connectors/no-such-connector');
  await call('unknown connector status', 'GET', '/connectors/no-such-connector/status');
  await call('unknown connector restart', 'POST', '/connectors/no-such-connector/restart');
  await call('unknown connector pause', 'PUT', '/connectors/no-such-connector/pause');
  await call('unknown connector stop', 'PUT', '/connectors/no-such-connector/stop');
  await call('unknown task status', 'GET', '/connectors/no-such-connector/tasks/0/status');
  await call('unknown connector topics', 'GET', '/connectors/no-such-connector/topics');
  await call('invalid config', 'POST', '/connectors', {
    name: `${name}-bad`,
    config: {
      'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector',
      'tasks.max': '0',
      'errors.tolerance': 'x',
    },
  });
  await call('name mismatch', 'POST', '/connectors', { name: `${name}-x`, config: { ...config, name: 'other' } });
  await call('unknown connector.class', 'POST', '/connectors', {
    name: `${name}-u`,
    config: { 'connector.class': 'NoSuchConnector' },
  });
  await call('create', 'POST', '/connectors', { name, config });
  await call('create again', 'POST', '/connectors', { name, config });
  await waitRunning();
  await call('info', 'GET', `/connectors/${name}`);
  await call('config', 'GET', `/connectors/${name}/config`);
  await call('status', 'GET', `/connectors/${name}/status`);
  await call('tasks', 'GET', `/connectors/${name}/tasks`);
  await call('task status', 'GET', `/connectors/${name}/tasks/0/status`);
  await call('missing task status', 'GET', `/connectors/${name}/tasks/7/status`);
  await call('missing task restart', 'POST', `/connectors/${name}/tasks/7/restart`);
  await call('put config name mismatch', 'PUT', `/connectors/${name}/config`, { ...config, name: 'zz' });
  await call('put config update', 'PUT', `/connectors/${name}/config`, config);
  await waitRunning();
  await call('patch config invalid', 'PATCH', `/connectors/${name}/config`, { topic: null });
  await call('offsets while running', 'GET', `/connectors/${name}/offsets`);
  await call('delete offsets while running', 'DELETE', `/connectors/${name}/offsets`);
  await call('restart plain', 'POST', `/connectors/${name}/restart`);
  await call('pause', 'PUT', `/connectors/${name}/pause`);
  await call('resume', 'PUT', `/connectors/${name}/resume`);
  const expanded = await call('expand unknown', 'GET', '/connectors?expand=status,info');
  // Other connectors may live on the same worker: keep only ours.
  expanded.body = (expanded.body as Record<string, unknown>)['<name>'] ?? null;
  await call('stop', 'PUT', `/connectors/${name}/stop`);
  await sleep(1000);
  // A task Connect stopped can still read RUNNING for a while (seen in CI on a busy shared Connect): the settled
  // status is what is compared.
  await waitForStatus((tasks) => Array.isArray(tasks) && tasks.length === 0, 75);
  await call('stopped status', 'GET', `/connectors/${name}/status`);
  await call('stopped info', 'GET', `/connectors/${name}`);
  await call('alter offsets empty', 'PATCH', `/connectors/${name}/offsets`, {});
  await call('alter offsets', 'PATCH', `/connectors/${name}/offsets`, {
    offsets: [{ partition: { filename: input }, offset: { position: 6 } }],
  });
  await call('offsets after alter', 'GET', `/connectors/${name}/offsets`);
  await call('reset offsets', 'DELETE', `/connectors/${name}/offsets`);
  // Connect 3.9 lists a source connector's partitions from what its offset-topic consumer has seen so far, then
  // reads their offsets to the end: right after a reset it may answer the partition with `"offset": null` until
  // that consumer reaches the tombstone. Wait for the reset to be visible (both workers), then compare.
  for (let i = 0; i < 25; i++) {
    const res = await fetch(`${base}/connectors/${name}/offsets`);
    const seen = (await res.json()) as { offsets?: Array<{ offset: unknown }> };
    if (!seen.offsets?.some((o) => o.offset === null)) break;
    await sleep(200);
  }
  await call('offsets after reset', 'GET', `/connectors/${name}/offsets`);
  await call('validate mismatch', 'PUT', '/connector-plugins/FileStreamSink/config/validate', {
    'connector.class': 'FileStreamSource',
    name: 'x',
  });
  await call('validate without connector.class', 'PUT', '/connector-plugins/FileStreamSink/config/validate', {
    name: 'x',
  });
  await call('plugin config unknown', 'GET', '/connector-plugins/NoSuchPlugin/config');
  await call('logger unknown', 'GET', '/admin/loggers/no.such.logger');
  await call('logger bad level', 'PUT', '/admin/loggers/no.such.logger', { level: 'LOUD' });
  await call('logger no level', 'PUT', '/admin/loggers/no.such.logger', {});
  await call('health', 'GET', '/health');
  await call('delete', 'DELETE', `/connectors/${name}`);
  await call('deleted', 'GET', `/connectors/${name}`);
  await edgeSteps(base, { input, name, topic }, replacements, results);
  return results;
}

/**
 * A request sent again while the worker answers that its group is rebalancing: Connect's distributed herder refuses
 * with 409 ("rebalance in progress") or 500 (RebalanceNeededException, "a rebalance is expected") when another test's
 * connector joined the shared Connect a moment before; a client sends it again, and the comparison is of the answer
 * once the group is settled.
 */
async function duringRebalanceAgain<T extends { status: number; text?: string; body?: string }>(
  send: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const r = await send();
    const text = r.text ?? r.body ?? '';
    if (!duringRebalance(r.status, text) || attempt === 20) return r;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The validate answer reduced to what the edge steps compare: the count and the errors by key. */
function errorsByKey(body: unknown): unknown {
  const b = body as { error_count?: number; configs?: Array<{ value: { name: string; errors: string[] } }> } | null;
  if (!b?.configs) return body;
  const errors = b.configs.filter((c) => c.value.errors.length > 0).map((c) => [c.value.name, c.value.errors]);
  return { error_count: b.error_count, errors: Object.fromEntries(errors) };
}

/**
 * Requests a client library would normalise before sending (dot segments, `//`, matrix parameters, odd
 * methods), so they go out byte for byte over a socket; then Connect's rules for nulls and unparsable values,
 * and a connector named `..`. (issue 19)
 */
async function edgeSteps(
  base: string,
  { input, name, topic }: { input: string; name: string; topic: string },
  replacements: Array<[string, string]>,
  results: StepResult[],
): Promise<void> {
  const raw = async (
    step: string,
    method: string,
    target: string,
    options: { headers?: Record<string, string>; body?: unknown; reduce?: (body: unknown) => unknown } = {},
  ) => {
    const headers: Record<string, string> = { ...options.headers };
    const text = options.body === undefined ? '' : JSON.stringify(options.body);
    if (text !== '') headers['content-type'] = 'application/json';
    const r = await duringRebalanceAgain(() => rawRequest(base, rawHttp(method, target, headers, text)));
    const parsed = r.json ?? (r.body === '' ? null : r.body);
    const body = normalize(parsed, replacements);
    results.push({ step, status: r.status, body: options.reduce ? options.reduce(body) : body });
  };
  // Other connectors may live on the same worker: a list is compared by its kind only.
  const listKind = (b: unknown) => (Array.isArray(b) ? '<list>' : b);
  await raw('encoded dot-dot segment', 'GET', '/connectors/%2e%2e/admin/loggers');
  await raw('dot segment', 'GET', '/./connectors');
  await raw('double slash authority', 'GET', '//example.com/connectors');
  await raw('double trailing slash', 'GET', '/connectors//');
  await raw('encoded literal segment', 'GET', '/%63onnectors');
  await raw('matrix parameters', 'GET', '/connectors;x=1', { reduce: listKind });
  await raw('matrix parameters after a slash', 'GET', '/connectors/;x=1', { reduce: listKind });
  await raw('matrix parameters in a name', 'GET', '/connectors/no-such;x=1/status');
  await raw('encoded slash in a name', 'GET', '/connectors/a%2Fb');
  await raw('double-encoded name', 'GET', '/connectors/a%252Fb');
  await raw('encoded semicolon in a name', 'GET', '/connectors/a%3Bb');
  await raw('UTF-8 name', 'GET', '/connectors/%C3%A9');
  await raw('invalid UTF-8 name', 'GET', '/connectors/%FF');
  await raw('task id with a plus sign', 'GET', '/connectors/no-such-connector/tasks/+1/status');
  await raw('task id overflow', 'GET', '/connectors/no-such-connector/tasks/99999999999/status');
  await raw('NUL in the path', 'GET', '/connectors/%00');
  await raw('malformed escape in the path', 'GET', '/connectors/%zz');
  await raw('HEAD /', 'HEAD', '/');
  await raw('OPTIONS /connectors', 'OPTIONS', '/connectors');
  await raw('OPTIONS unknown path', 'OPTIONS', '/no-such-path');
  await raw('Accept text/plain', 'GET', '/connectors', { headers: { accept: 'text/plain' } });
  await raw('Accept with a wildcard', 'GET', '/connectors', {
    headers: { accept: 'application/xml, */*;q=0.1' },
    reduce: listKind,
  });
  await raw('unknown method', 'FOO', '/connectors');
  await raw('method no resource has', 'PROPFIND', '/');
  const validate = (step: string, config: Record<string, unknown>) =>
    raw(step, 'PUT', '/connector-plugins/FileStreamSource/config/validate', {
      body: { 'connector.class': 'FileStreamSource', name: 'v', topic: 't', ...config },
      reduce: errorsByKey,
    });
  await validate("null for the connector's own key", { file: null });
  await validate('null for an undeclared key', { key: null });
  await validate('null for a framework key', { 'tasks.max': null });
  await validate('unparsable values', { 'tasks.max': 'abc', 'errors.retry.timeout': 'zz', 'batch.size': 'q' });
  const fileConfig = { 'connector.class': 'FileStreamSource', file: input, topic };
  await raw('create with a null own key', 'POST', '/connectors', {
    body: { name: `${name}-null`, config: { ...fileConfig, file: null } },
    reduce: (b) => (b as { config?: unknown }).config ?? b,
  });
  await raw('delete it', 'DELETE', `/connectors/${name}-null`);
  await raw('create with a null undeclared key', 'POST', '/connectors', {
    body: { name: `${name}-null2`, config: { ...fileConfig, key: null } },
  });
  // A connector named "..": created, read and deleted through its encoded and plain names.
  await rawRequest(base, rawHttp('DELETE', '/connectors/%2e%2e'));
  const nameOnly = (b: unknown) => (b as { name?: unknown }).name ?? b;
  await raw('create ".."', 'POST', '/connectors', { body: { name: '..', config: fileConfig }, reduce: nameOnly });
  await raw('get ".." encoded', 'GET', '/connectors/%2e%2e', { reduce: nameOnly });
  await raw('get ".." plain', 'GET', '/connectors/..', { reduce: nameOnly });
  await raw('config of ".."', 'GET', '/connectors/../config', { reduce: nameOnly });
  await raw('delete ".."', 'DELETE', '/connectors/%2e%2e');
  await raw('".." deleted', 'GET', '/connectors/..');
}

/** Steps whose status or normalized body differ between two runs (known deviations: status only). */
export function differences(a: StepResult[], b: StepResult[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y || x.step !== y.step) {
      out.push(`step ${i}: ${x?.step} vs ${y?.step}`);
      continue;
    }
    if (x.status !== y.status) out.push(`${x.step}: status ${x.status} vs ${y.status}`);
    else if (!KNOWN_DIFFERENCES.has(x.step) && JSON.stringify(x.body) !== JSON.stringify(y.body)) {
      out.push(`${x.step}: body ${JSON.stringify(x.body)} vs ${JSON.stringify(y.body)}`);
    }
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [a, b] = process.argv.slice(2);
  if (!a) {
    process.stderr.write('usage: conformance.ts <url> [<other url>]\n');
    process.exit(2);
  }
  const topic = `conformance-${Date.now().toString(36)}`;
  const ra = await runConformance(a, topic);
  if (!b) {
    for (const r of ra) process.stdout.write(`${r.status} ${r.step} ${JSON.stringify(r.body).slice(0, 200)}\n`);
  } else {
    const rb = await runConformance(b, topic);
    const diff = differences(ra, rb);
    process.stdout.write(diff.length === 0 ? 'no differences\n' : `${diff.join('\n')}\n`);
    process.exit(diff.length === 0 ? 0 : 1);
  }
}

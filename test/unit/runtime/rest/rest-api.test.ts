import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { ERPSTREAM_VERSION } from '../../../../runtime/api/index.js';
import { waitFor } from '../worker/fake-kafka.js';
import { type Harness, startHarness } from '../worker/harness.js';

let h: Harness;
let input: string;

const source = (name: string, extra: Record<string, string> = {}) => ({
  name,
  config: { 'connector.class': 'FileStreamSource', file: input, topic: 'lines', ...extra },
});

beforeEach(async () => {
  h = await startHarness();
  input = path.join(h.dir, 'in.txt');
  await writeFile(input, 'one\ntwo\n');
});
afterEach(async () => {
  await h.worker.stop();
});

async function running(name: string, tasks = 1): Promise<void> {
  await waitFor(
    async () => {
      const s = await h.req('GET', `/connectors/${name}/status`);
      return (
        s.body?.connector?.state === 'RUNNING' &&
        s.body.tasks.length === tasks &&
        s.body.tasks.every((t: { state: string }) => t.state === 'RUNNING')
      );
    },
    5000,
    `${name} running`,
  );
}

describe('root, health, metrics', () => {
  it('GET / reports a numeric X.Y.Z version, a commit and the cluster id', async () => {
    const r = await h.req('GET', '/');
    expect(r.status).toBe(200);
    expect(r.body.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(typeof r.body.commit).toBe('string');
    expect(r.body.kafka_cluster_id).toBe('fake-cluster');
  });
  it('GET / reports erpstream’s own version (package.json) and commit (the checkout’s HEAD), not Connect’s', async () => {
    const r = await h.req('GET', '/');
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(r.body.version).toBe(pkg.version);
    expect(ERPSTREAM_VERSION).toBe(pkg.version);
    let head: string | null = null;
    try {
      head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      // no git here: the commit is then whatever build info says
    }
    if (head && !process.env.ERPSTREAM_COMMIT) expect(r.body.commit).toBe(head.slice(0, 16));
    expect(r.body.commit).not.toMatch(/^erpstream/);
  });
  it('GET /health is healthy once started', async () => {
    const r = await h.req('GET', '/health');
    expect(r).toMatchObject({
      status: 200,
      body: { status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.' },
    });
  });
  it('GET /metrics serves Prometheus text per task', async () => {
    await h.req('POST', '/connectors', source('m'));
    await waitFor(() => h.kafka.values('lines').length === 2);
    const r = await h.req('GET', '/metrics');
    expect(r.headers.get('content-type')).toContain('text/plain');
    expect(r.body).toContain('erpstream_task_records_produced_total{connector="m",task="0"} 2');
  });
});

describe('error shape for unknown routes and bad requests', () => {
  it('404 and 405 as Connect/Jersey words them', async () => {
    expect(await h.req('GET', '/nope')).toMatchObject({
      status: 404,
      body: { error_code: 404, message: 'HTTP 404 Not Found' },
    });
    expect(await h.req('DELETE', '/connector-plugins')).toMatchObject({
      status: 405,
      body: { error_code: 405, message: 'HTTP 405 Method Not Allowed' },
    });
    expect((await h.req('GET', '/connectors/x/tasks/notanumber/status')).status).toBe(404);
    expect(await h.req('GET', '/connectors/%E0%A4%A/status')).toMatchObject({ status: 400, body: { error_code: 400 } });
  });
  it('415 for a body that is not application/json', async () => {
    const r = await h.req('POST', '/connectors', 'name=x', { 'content-type': 'text/plain' });
    expect(r).toMatchObject({ status: 415, body: { error_code: 415, message: 'HTTP 415 Unsupported Media Type' } });
  });
  it('400 (not a crash) for malformed JSON', async () => {
    const r = await h.req('POST', '/connectors', '{bad');
    expect(r.status).toBe(400);
    expect(r.body.error_code).toBe(400);
    expect(r.body.message).toContain('Invalid JSON');
    expect(r.body.message).not.toMatch(/\n\s+at /);
  });
  it('413 above the body size limit', async () => {
    const r = await h.req('POST', '/connectors', { name: 'x', config: { big: 'x'.repeat(1_100_000) } });
    expect(r.status).toBe(413);
    expect(r.body.error_code).toBe(413);
  });
});

describe('connector lifecycle endpoints', () => {
  it('POST creates (201 + Location), lists, and 409 on an existing name', async () => {
    const r = await h.req('POST', '/connectors', source('a'));
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe('/connectors/a');
    expect(r.body).toEqual({
      name: 'a',
      config: { 'connector.class': 'FileStreamSource', file: input, topic: 'lines', name: 'a' },
      tasks: [],
      type: 'source',
    });
    expect((await h.req('GET', '/connectors')).body).toEqual(['a']);
    expect(await h.req('POST', '/connectors', source('a'))).toMatchObject({
      status: 409,
      body: { error_code: 409, message: 'Connector a already exists' },
    });
  });

  it("POST with an invalid config answers 400 with Connect's multi-line message", async () => {
    const r = await h.req('POST', '/connectors', {
      name: 'bad',
      config: { 'connector.class': 'FileStreamSource', 'tasks.max': '0', 'errors.tolerance': 'x' },
    });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe(
      'Connector configuration is invalid and contains the following 3 error(s):\n' +
        'Invalid value 0 for configuration tasks.max: Value must be at least 1\n' +
        'Invalid value x for configuration errors.tolerance: String must be one of: none, all\n' +
        'Missing required configuration "topic" which has no default value.\n' +
        'You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`',
    );
  });

  it('POST: a number name is coerced as Jackson does; an object or array name is refused naming "name"', async () => {
    const numeric = await h.req('POST', '/connectors', { name: 4711, config: source('ignored').config });
    expect(numeric).toMatchObject({ status: 201, body: { name: '4711' } });
    await h.req('DELETE', '/connectors/4711');
    for (const name of [{ first: 'x' }, ['x']]) {
      const r = await h.req('POST', '/connectors', { name, config: source('ignored').config });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error_code: 400, message: expect.stringMatching(/^"name" must be a string/) });
    }
  });

  it('POST: name mismatch, missing name, unknown class', async () => {
    const mismatch = await h.req('POST', '/connectors', {
      name: 'b',
      config: { name: 'other', 'connector.class': 'FileStreamSource' },
    });
    expect(mismatch).toMatchObject({
      status: 400,
      body: { message: "Connector name configuration (other) doesn't match connector name in the URL (b)" },
    });
    const noName = await h.req('POST', '/connectors', {
      config: { 'connector.class': 'FileStreamSource', topic: 't' },
    });
    expect(noName.status).toBe(400);
    expect(noName.body.message).toContain('Invalid value  for configuration name: String may not be empty');
    const unknown = await h.req('POST', '/connectors', { name: 'u', config: { 'connector.class': 'Nope' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(
      /^Failed to find any class that implements Connector and which name matches Nope/,
    );
  });

  it('GET connector, config, tasks, tasks-config, status, task status', async () => {
    await h.req('POST', '/connectors', source('c'));
    await running('c');
    expect((await h.req('GET', '/connectors/c')).body.tasks).toEqual([{ connector: 'c', task: 0 }]);
    expect((await h.req('GET', '/connectors/c/config')).body).toEqual({ ...source('c').config, name: 'c' });
    const tasks = await h.req('GET', '/connectors/c/tasks');
    expect(tasks.body).toEqual([
      {
        id: { connector: 'c', task: 0 },
        config: {
          ...source('c').config,
          name: 'c',
          'task.class': 'org.apache.kafka.connect.file.FileStreamSourceTask',
        },
      },
    ]);
    expect(Object.keys((await h.req('GET', '/connectors/c/tasks-config')).body)).toEqual(['c-0']);
    const status = await h.req('GET', '/connectors/c/status');
    expect(status.body).toEqual({
      name: 'c',
      // Connect 4.x (KIP-891): the plugin's version on connector and task statuses
      connector: { state: 'RUNNING', worker_id: h.worker.workerId, version: ERPSTREAM_VERSION },
      tasks: [{ id: 0, state: 'RUNNING', worker_id: h.worker.workerId, version: ERPSTREAM_VERSION }],
      type: 'source',
    });
    expect(h.worker.workerId).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await h.req('GET', '/connectors/c/tasks/0/status')).body).toEqual({
      id: 0,
      state: 'RUNNING',
      worker_id: h.worker.workerId,
      version: ERPSTREAM_VERSION,
    });
    expect(await h.req('GET', '/connectors/c/tasks/5/status')).toMatchObject({
      status: 404,
      body: { message: 'No status found for task c-5' },
    });
  });

  it('404 messages for an unknown connector match Connect', async () => {
    const cases: Array<[string, string, string]> = [
      ['GET', '/connectors/nope', 'Connector nope not found'],
      ['GET', '/connectors/nope/config', 'Connector nope not found'],
      ['GET', '/connectors/nope/tasks', 'Connector nope not found'],
      ['GET', '/connectors/nope/offsets', 'Connector nope not found'],
      ['DELETE', '/connectors/nope', 'Connector nope not found'],
      ['GET', '/connectors/nope/status', 'No status found for connector nope'],
      ['GET', '/connectors/nope/tasks/0/status', 'No status found for task nope-0'],
      ['POST', '/connectors/nope/restart', 'Unknown connector: nope'],
      ['POST', '/connectors/nope/tasks/0/restart', 'Unknown connector: nope'],
      ['PUT', '/connectors/nope/pause', 'Unknown connector nope'],
      ['PUT', '/connectors/nope/resume', 'Unknown connector nope'],
      ['PUT', '/connectors/nope/stop', 'Unknown connector nope'],
    ];
    for (const [method, p, message] of cases) {
      expect(await h.req(method, p), `${method} ${p}`).toMatchObject({
        status: 404,
        body: { error_code: 404, message },
      });
    }
    expect(await h.req('PATCH', '/connectors/nope/config', { topic: 'x' })).toMatchObject({
      status: 404,
      body: { message: 'Connector nope not found' },
    });
    // Connect answers topics of an unknown connector with an empty list.
    expect(await h.req('GET', '/connectors/nope/topics')).toMatchObject({
      status: 200,
      body: { nope: { topics: [] } },
    });
  });

  it('PUT config creates (201) then updates (200); name mismatch is 400', async () => {
    const created = await h.req('PUT', '/connectors/p/config', source('p').config);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/connectors/p');
    const updated = await h.req('PUT', '/connectors/p/config', { ...source('p').config, 'batch.size': '10' });
    expect(updated.status).toBe(200);
    expect(updated.body.config['batch.size']).toBe('10');
    expect(await h.req('PUT', '/connectors/p/config', { ...source('p').config, name: 'zz' })).toMatchObject({
      status: 400,
      body: { message: "Connector name configuration (zz) doesn't match connector name in the URL (p)" },
    });
  });

  it('PATCH merges and removes null keys, then validates', async () => {
    await h.req('POST', '/connectors', source('q', { 'batch.size': '5' }));
    const r = await h.req('PATCH', '/connectors/q/config', { 'batch.size': null, 'tasks.max': '1' });
    expect(r.status).toBe(200);
    expect(r.body.config['batch.size']).toBeUndefined();
    const bad = await h.req('PATCH', '/connectors/q/config', { topic: null });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('Missing required configuration "topic" which has no default value.');
  });

  it('expand=status&expand=info, and an unknown expansion maps to {}', async () => {
    await h.req('POST', '/connectors', source('e'));
    await running('e');
    const both = await h.req('GET', '/connectors?expand=status&expand=info');
    expect(Object.keys(both.body.e)).toEqual(['status', 'info']);
    expect(both.body.e.info.name).toBe('e');
    expect(both.body.e.status.connector.state).toBe('RUNNING');
    expect((await h.req('GET', '/connectors?expand=status,info')).body).toEqual({ e: {} });
  });

  it('pause 202 → PAUSED, resume 202 → RUNNING, stop 204 → STOPPED with no tasks', async () => {
    await h.req('POST', '/connectors', source('s'));
    await running('s');
    expect((await h.req('PUT', '/connectors/s/pause')).status).toBe(202);
    await waitFor(async () => (await h.req('GET', '/connectors/s/status')).body.tasks[0]?.state === 'PAUSED');
    expect((await h.req('GET', '/connectors/s/status')).body).toMatchObject({
      connector: { state: 'PAUSED' },
      tasks: [{ id: 0, state: 'PAUSED' }],
    });
    expect((await h.req('PUT', '/connectors/s/resume')).status).toBe(202);
    await running('s');
    const stop = await h.req('PUT', '/connectors/s/stop');
    expect(stop.status).toBe(204);
    expect(stop.body).toBeUndefined();
    expect((await h.req('GET', '/connectors/s/status')).body).toMatchObject({
      connector: { state: 'STOPPED' },
      tasks: [],
    });
    expect((await h.req('GET', '/connectors/s')).body.tasks).toEqual([]);
    expect((await h.req('PUT', '/connectors/s/resume')).status).toBe(202);
    await running('s');
  });

  it('restart: 204 plain, 202 with RESTARTING snapshot, onlyFailed skips healthy instances; task restart 204/404', async () => {
    await h.req('POST', '/connectors', source('r'));
    await running('r');
    expect((await h.req('POST', '/connectors/r/restart')).status).toBe(204);
    const all = await h.req('POST', '/connectors/r/restart?includeTasks=true');
    expect(all.status).toBe(202);
    expect(all.body).toMatchObject({ connector: { state: 'RESTARTING' }, tasks: [{ id: 0, state: 'RESTARTING' }] });
    await running('r');
    const onlyFailed = await h.req('POST', '/connectors/r/restart?includeTasks=true&onlyFailed=true');
    expect(onlyFailed.status).toBe(202);
    expect(onlyFailed.body).toMatchObject({ connector: { state: 'RUNNING' }, tasks: [{ state: 'RUNNING' }] });
    expect((await h.req('POST', '/connectors/r/tasks/0/restart')).status).toBe(204);
    expect(await h.req('POST', '/connectors/r/tasks/3/restart')).toMatchObject({
      status: 404,
      body: { message: 'Unknown task: r-3' },
    });
  });

  it('DELETE 204 removes the connector', async () => {
    await h.req('POST', '/connectors', source('d'));
    expect((await h.req('DELETE', '/connectors/d')).status).toBe(204);
    expect((await h.req('GET', '/connectors')).body).toEqual([]);
  });

  it('topics are tracked and reset (202)', async () => {
    await h.req('POST', '/connectors', source('t'));
    await waitFor(async () => (await h.req('GET', '/connectors/t/topics')).body.t.topics.length === 1);
    expect((await h.req('GET', '/connectors/t/topics')).body).toEqual({ t: { topics: ['lines'] } });
    expect((await h.req('PUT', '/connectors/t/topics/reset')).status).toBe(202);
    expect((await h.req('GET', '/connectors/t/topics')).body).toEqual({ t: { topics: [] } });
  });
});

describe('offsets', () => {
  it("GET works while running; PATCH/DELETE need STOPPED, with Connect's messages", async () => {
    await h.req('POST', '/connectors', source('o'));
    await waitFor(async () => (await h.req('GET', '/connectors/o/offsets')).body.offsets.length === 1);
    expect((await h.req('GET', '/connectors/o/offsets')).body).toEqual({
      offsets: [{ partition: { filename: input }, offset: { position: 8 } }],
    });
    const notStopped =
      "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/o/stop' endpoint";
    expect(await h.req('DELETE', '/connectors/o/offsets')).toMatchObject({
      status: 400,
      body: { message: notStopped },
    });
    const body = { offsets: [{ partition: { filename: input }, offset: { position: 4 } }] };
    expect(await h.req('PATCH', '/connectors/o/offsets', body)).toMatchObject({
      status: 400,
      body: { message: notStopped },
    });
    await h.req('PUT', '/connectors/o/stop');
    expect(await h.req('PATCH', '/connectors/o/offsets', {})).toMatchObject({
      status: 400,
      body: { message: 'Partitions / offsets need to be provided for an alter offsets request' },
    });
    expect(await h.req('PATCH', '/connectors/o/offsets', body)).toMatchObject({
      status: 200,
      body: { message: 'The offsets for this connector have been altered successfully' },
    });
    expect((await h.req('GET', '/connectors/o/offsets')).body.offsets[0].offset).toEqual({ position: 4 });
    expect(await h.req('DELETE', '/connectors/o/offsets')).toMatchObject({
      status: 200,
      body: { message: 'The offsets for this connector have been reset successfully' },
    });
    expect((await h.req('GET', '/connectors/o/offsets')).body).toEqual({ offsets: [] });
  });

  it('sink offsets use kafka_topic/kafka_partition/kafka_offset and validate the partition', async () => {
    await h.req('POST', '/connectors', {
      name: 'k',
      config: { 'connector.class': 'FileStreamSink', file: path.join(h.dir, 'out.txt'), topics: 'lines' },
    });
    await h.req('PUT', '/connectors/k/stop');
    const bad = await h.req('PATCH', '/connectors/k/offsets', {
      offsets: [{ partition: { topic: 'x' }, offset: null }],
    });
    expect(bad).toMatchObject({
      status: 400,
      body: {
        message: "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
      },
    });
    const ok = await h.req('PATCH', '/connectors/k/offsets', {
      offsets: [{ partition: { kafka_topic: 'lines', kafka_partition: 0 }, offset: { kafka_offset: '7' } }],
    });
    expect(ok.status).toBe(200);
    expect((await h.req('GET', '/connectors/k/offsets')).body).toEqual({
      offsets: [{ partition: { kafka_topic: 'lines', kafka_partition: 0 }, offset: { kafka_offset: 7 } }],
    });
  });
});

describe('connector plugins and validation', () => {
  it('KIP-891: a connector or converter version we do not have is an error on the class and on the version key', async () => {
    const r = await h.req('PUT', '/connector-plugins/FileStreamSource/config/validate', {
      'connector.class': 'FileStreamSource',
      name: 'v',
      topic: 't',
      'connector.plugin.version': '9.9.9',
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.plugin.version': '[0.0.1,1000)',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.plugin.version': '(,0.0.1)',
    });
    expect(r.status).toBe(200);
    const errors = Object.fromEntries(
      (r.body.configs as Array<{ value: { name: string; errors: string[] } }>)
        .filter((c) => c.value.errors.length > 0)
        .map((c) => [c.value.name, c.value.errors]),
    );
    const cls = 'org.apache.kafka.connect.file.FileStreamSourceConnector';
    const msg = `Plugin ${cls} not found that matches the version range [9.9.9,9.9.9], available versions: [${ERPSTREAM_VERSION}]`;
    expect(errors['connector.class']).toEqual([msg]);
    expect(errors['connector.plugin.version']).toEqual([msg]);
    expect(errors['key.converter.plugin.version']).toBeUndefined();
    expect(errors['value.converter.plugin.version']?.[0]).toMatch(/version range \(,0\.0\.1\)/);
    expect(r.body.error_count).toBe(4);
    // and a connector asking for it is refused, not created
    const put = await h.req('PUT', '/connectors/v/config', {
      'connector.class': 'FileStreamSource',
      topic: 't',
      'connector.plugin.version': '9.9.9',
    });
    expect(put.status).toBe(400);
    expect((await h.req('GET', '/connectors/v')).status).toBe(404);
    const ok = await h.req('PUT', '/connectors/v/config', {
      'connector.class': 'FileStreamSource',
      topic: 't',
      'connector.plugin.version': `[${ERPSTREAM_VERSION},)`,
    });
    expect(ok.status).toBe(201);
  });

  it('lists plugin config keys with Connect 4.x’s order_in_group and the KIP-891 version keys', async () => {
    const r = await h.req('GET', '/connector-plugins/FileStreamSource/config');
    const byName = Object.fromEntries((r.body as Array<{ name: string }>).map((k) => [k.name, k]));
    expect(byName['connector.plugin.version']).toMatchObject({ order_in_group: 3, default_value: ERPSTREAM_VERSION });
    expect(byName['key.converter.plugin.version']).toMatchObject({ order_in_group: 7, default_value: null });
    expect(byName['tasks.max']).toMatchObject({ order_in_group: 4 });
    expect(byName['tasks.max']).not.toHaveProperty('order');
  });

  it('lists connectors only by default, everything with connectorsOnly=false', async () => {
    const only = (await h.req('GET', '/connector-plugins')).body as Array<{ class: string; type: string }>;
    expect(only.every((p) => p.type === 'source' || p.type === 'sink')).toBe(true);
    expect(only.map((p) => p.class)).toContain('org.apache.kafka.connect.file.FileStreamSourceConnector');
    const all = (await h.req('GET', '/connector-plugins?connectorsOnly=false')).body as Array<{ type: string }>;
    expect(new Set(all.map((p) => p.type))).toEqual(
      new Set(['source', 'sink', 'converter', 'header_converter', 'transformation', 'predicate']),
    );
  });

  it('GET plugin config: own keys first, then framework keys; 404 for unknown', async () => {
    const r = await h.req('GET', '/connector-plugins/org.apache.kafka.connect.file.FileStreamSourceConnector/config');
    expect(r.status).toBe(200);
    const names = (r.body as Array<{ name: string }>).map((k) => k.name);
    expect(names.slice(0, 3)).toEqual(['file', 'topic', 'batch.size']);
    expect(names).toContain('errors.tolerance');
    expect(await h.req('GET', '/connector-plugins/nope/config')).toMatchObject({
      status: 404,
      body: { message: 'Unknown plugin nope.' },
    });
  });

  it("validate returns ConfigInfos (200 even with errors), with Connect's groups and key info", async () => {
    const r = await h.req('PUT', '/connector-plugins/FileStreamSource/config/validate', {
      'connector.class': 'FileStreamSource',
      name: 'x',
      'tasks.max': '0',
    });
    expect(r.status).toBe(200);
    expect(r.body.name).toBe('FileStreamSource');
    expect(r.body.error_count).toBe(2);
    // KIP-891: the connector's version key, defaulting to (and recommending) the installed version
    const version = r.body.configs.find(
      (c: { definition: { name: string } }) => c.definition?.name === 'connector.plugin.version',
    );
    expect(version.definition).toMatchObject({ group: 'Common', order_in_group: 3, default_value: ERPSTREAM_VERSION });
    expect(version.value).toMatchObject({ value: ERPSTREAM_VERSION, errors: [] });
    expect(r.body.groups.slice(0, 7)).toEqual([
      'Common',
      'Transforms',
      'Predicates',
      'Error Handling',
      'Topic Creation',
      'Exactly Once Support',
      'offsets.topic',
    ]);
    const tasksMax = r.body.configs.find((c: { definition: { name: string } }) => c.definition?.name === 'tasks.max');
    expect(tasksMax).toEqual({
      definition: {
        name: 'tasks.max',
        type: 'INT',
        required: false,
        default_value: '1',
        importance: 'HIGH',
        documentation: 'Maximum number of tasks to use for this connector.',
        group: 'Common',
        order_in_group: 4, // Connect 4.x: after connector.plugin.version
        width: 'SHORT',
        display_name: 'Tasks max',
        dependents: [],
      },
      value: {
        name: 'tasks.max',
        value: '0',
        recommended_values: [],
        errors: ['Invalid value 0 for configuration tasks.max: Value must be at least 1'],
        visible: true,
      },
    });
  });

  it('validate reports transform chain and sink topic errors', async () => {
    const r = await h.req('PUT', '/connector-plugins/FileStreamSink/config/validate', {
      'connector.class': 'FileStreamSink',
      name: 'x',
      transforms: 'a',
      'transforms.a.type': 'org.example.Missing',
    });
    const errors = (r.body.configs as Array<{ value: { name: string; errors: string[] } }>).flatMap((c) =>
      c.value.errors.map((e) => `${c.value.name}: ${e}`),
    );
    expect(errors.some((e) => e.startsWith('transforms.a.type:'))).toBe(true);
    expect(errors).toContain('topics: Must configure one of topics or topics.regex');
    expect(r.body.error_count).toBe(errors.length);
  });

  it('validate: no connector type, and a type that does not match the path', async () => {
    const none = await h.req('PUT', '/connector-plugins/FileStreamSink/config/validate', { name: 'x' });
    expect(none).toMatchObject({
      status: 400,
      body: { message: 'Connector config {name=x} contains no connector type' },
    });
    const mismatch = await h.req('PUT', '/connector-plugins/FileStreamSink/config/validate', {
      'connector.class': 'FileStreamSource',
      name: 'x',
    });
    expect(mismatch).toMatchObject({
      status: 400,
      body: { message: 'Included connector type FileStreamSource does not match request type FileStreamSink' },
    });
  });
});

describe('/admin/loggers', () => {
  it("lists, reads, sets levels live; Connect's error messages", async () => {
    const list = await h.req('GET', '/admin/loggers');
    expect(list.body.root).toEqual({ level: 'INFO', last_modified: null });
    expect(await h.req('GET', '/admin/loggers/nope')).toMatchObject({
      status: 404,
      body: { message: 'Logger nope not found.' },
    });
    const set = await h.req('PUT', '/admin/loggers/erpstream.worker', { level: 'DEBUG' });
    expect(set).toMatchObject({ status: 200, body: ['erpstream.worker'] });
    const got = await h.req('GET', '/admin/loggers/erpstream.worker');
    expect(got.body.level).toBe('DEBUG');
    expect(typeof got.body.last_modified).toBe('number');
    expect(await h.req('PUT', '/admin/loggers/x', { level: 'XX' })).toMatchObject({
      status: 404,
      body: { message: "invalid log level 'XX'." },
    });
    expect(await h.req('PUT', '/admin/loggers/x', {})).toMatchObject({
      status: 400,
      body: { message: "Desired 'level' parameter was not specified in request." },
    });
    expect((await h.req('PUT', '/admin/loggers/x?scope=cluster', { level: 'WARN' })).status).toBe(204);
  });

  it('a level change takes effect on the next log line', async () => {
    const before = h.logs.length;
    await h.req('PUT', '/admin/loggers/erpstream.rest', { level: 'DEBUG' });
    await h.req('GET', '/connectors');
    const lines = h.logs.slice(before).map((l) => JSON.parse(l) as { logger: string; level: string; path?: string });
    expect(lines.some((l) => l.logger === 'erpstream.rest' && l.level === 'DEBUG' && l.path === '/connectors')).toBe(
      true,
    );
  });
});

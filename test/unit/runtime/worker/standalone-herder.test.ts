import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from './fake-kafka.js';
import { type Harness, startHarness } from './harness.js';
import { control, testRegistry } from './test-plugins.js';

let h: Harness;
beforeEach(async () => {
  control.failPoll = false;
  control.polls = 0;
  control.startedTasks = 0;
  control.records = [];
  h = await startHarness({}, { registry: testRegistry() });
});
afterEach(async () => {
  await h.worker.stop();
});

const status = async (name: string) => (await h.req('GET', `/connectors/${name}/status`)).body;

describe('standalone herder state machine', () => {
  it('a task that throws is FAILED with its trace; restart onlyFailed restarts just it', async () => {
    await h.req('POST', '/connectors', { name: 'f', config: { 'connector.class': 'FlakySource' } });
    await waitFor(async () => (await status('f')).tasks[0]?.state === 'RUNNING');
    control.failPoll = true;
    await waitFor(async () => (await status('f')).tasks[0]?.state === 'FAILED');
    const failed = await status('f');
    expect(failed.connector.state).toBe('RUNNING');
    expect(failed.tasks[0].trace).toContain('boom: the source is broken');
    expect(failed.tasks[0].trace).not.toContain('undefined');

    control.failPoll = false;
    const started = control.startedTasks;
    const r = await h.req('POST', '/connectors/f/restart?includeTasks=true&onlyFailed=true');
    expect(r.status).toBe(202);
    expect(r.body.connector.state).toBe('RUNNING'); // not failed: not restarted
    expect(r.body.tasks[0].state).toBe('RESTARTING');
    // As Connect: the RESTARTING snapshot keeps the trace of the failure being restarted.
    expect(r.body.tasks[0].trace).toContain('boom: the source is broken');
    await waitFor(async () => (await status('f')).tasks[0]?.state === 'RUNNING');
    expect(control.startedTasks).toBe(started + 1);
    expect((await status('f')).tasks[0].trace).toBeUndefined();
  });

  it('restarting a STOPPED connector leaves it STOPPED; restarting a PAUSED one leaves it PAUSED', async () => {
    await h.req('POST', '/connectors', {
      name: 'st',
      config: { 'connector.class': 'FlakySource' },
      initial_state: 'STOPPED',
    });
    const r = await h.req('POST', '/connectors/st/restart?includeTasks=true');
    expect(r.status).toBe(202);
    await waitFor(async () => (await status('st')).connector.state === 'STOPPED');
    expect((await status('st')).tasks).toEqual([]);

    await h.req('POST', '/connectors', {
      name: 'pa',
      config: { 'connector.class': 'FlakySource' },
      initial_state: 'PAUSED',
    });
    await waitFor(async () => (await status('pa')).tasks[0]?.state === 'PAUSED');
    await h.req('POST', '/connectors/pa/restart?includeTasks=true');
    await waitFor(async () => {
      const s = await status('pa');
      return s.connector.state === 'PAUSED' && s.tasks[0]?.state === 'PAUSED';
    });
  });

  it('POST with initial_state PAUSED / STOPPED', async () => {
    await h.req('POST', '/connectors', {
      name: 'p',
      config: { 'connector.class': 'FlakySource' },
      initial_state: 'paused',
    });
    await waitFor(async () => (await status('p')).tasks[0]?.state === 'PAUSED');
    expect((await status('p')).connector.state).toBe('PAUSED');
    await h.req('POST', '/connectors', {
      name: 's',
      config: { 'connector.class': 'FlakySource' },
      initial_state: 'STOPPED',
    });
    expect(await status('s')).toMatchObject({ connector: { state: 'STOPPED' }, tasks: [] });
    const bad = await h.req('POST', '/connectors', {
      name: 'x',
      config: { 'connector.class': 'FlakySource' },
      initial_state: 'NAPPING',
    });
    expect(bad.status).toBe(400);
  });

  it('a connector generating more tasks than tasks.max fails (KIP-1004) unless tasks.max.enforce=false', async () => {
    await h.req('POST', '/connectors', { name: 'm', config: { 'connector.class': 'FlakySource', 'extra.tasks': '1' } });
    await waitFor(async () => (await status('m')).connector.state === 'FAILED');
    expect((await status('m')).connector.trace).toContain('has generated 2 tasks, which is greater than 1');
    await h.req('PUT', '/connectors/m/config', {
      'connector.class': 'FlakySource',
      'extra.tasks': '1',
      'tasks.max.enforce': 'false',
    });
    await waitFor(async () => (await status('m')).tasks.length === 2);
  });

  it('PUT of the same config leaves running tasks alone; a changed config restarts them', async () => {
    await h.req('POST', '/connectors', { name: 'same', config: { 'connector.class': 'FlakySource', topic: 'same' } });
    await waitFor(async () => (await status('same')).tasks[0]?.state === 'RUNNING');
    const started = control.startedTasks;
    expect(
      (await h.req('PUT', '/connectors/same/config', { 'connector.class': 'FlakySource', topic: 'same' })).status,
    ).toBe(200);
    expect(control.startedTasks).toBe(started);
    await h.req('PUT', '/connectors/same/config', { 'connector.class': 'FlakySource', topic: 'other' });
    await waitFor(() => control.startedTasks === started + 1);
  });

  it('pausing stops polling; resuming continues from the last offset', async () => {
    await h.req('POST', '/connectors', { name: 'q', config: { 'connector.class': 'FlakySource', topic: 'q' } });
    await waitFor(() => h.kafka.values('q').length >= 3);
    await h.req('PUT', '/connectors/q/pause');
    await waitFor(async () => (await status('q')).tasks[0]?.state === 'PAUSED');
    const n = h.kafka.values('q').length;
    await new Promise((r) => setTimeout(r, 200));
    expect(h.kafka.values('q').length).toBe(n);
    await h.req('PUT', '/connectors/q/resume');
    await waitFor(() => h.kafka.values('q').length > n);
    const values = h.kafka.values('q').map(Number);
    expect(values).toEqual(values.map((_, i) => i)); // no gap, no repeat
  });

  it('configs, target states and offsets survive a worker restart', async () => {
    const dir = h.dir;
    await h.req('POST', '/connectors', { name: 'keep', config: { 'connector.class': 'FlakySource', topic: 'k' } });
    await h.req('POST', '/connectors', { name: 'held', config: { 'connector.class': 'FlakySource', topic: 'h' } });
    await waitFor(() => h.kafka.values('k').length >= 3);
    await h.req('PUT', '/connectors/held/stop');
    const kafka = h.kafka;
    await h.worker.stop();
    const produced = kafka.values('k').length;
    const offsets = JSON.parse(await readFile(path.join(dir, 'offsets.json'), 'utf8')) as Record<string, unknown>;
    // Connect's key format: ["<connector>",{partition}] in canonical JSON.
    expect(offsets['["keep",{"p":0}]']).toEqual({ seq: produced - 1 });

    h = await startHarness({}, { dir, kafka, registry: testRegistry() });
    expect((await h.req('GET', '/connectors')).body).toEqual(['held', 'keep']);
    expect((await status('held')).connector.state).toBe('STOPPED');
    await waitFor(() => kafka.values('k').length > produced + 2);
    const values = kafka.values('k').map(Number);
    expect(values).toEqual(values.map((_, i) => i)); // continued after the flushed offset: no repeat, no gap
  });

  it('DELETE stops the tasks and forgets the connector but keeps its offsets', async () => {
    await h.req('POST', '/connectors', { name: 'd', config: { 'connector.class': 'FlakySource', topic: 'd' } });
    await waitFor(() => h.kafka.values('d').length >= 2);
    await h.req('DELETE', '/connectors/d');
    const n = h.kafka.values('d').length;
    await new Promise((r) => setTimeout(r, 150));
    expect(h.kafka.values('d').length).toBe(n);
    await h.req('POST', '/connectors', { name: 'd', config: { 'connector.class': 'FlakySource', topic: 'd' } });
    await waitFor(() => h.kafka.values('d').length > n);
    const values = h.kafka.values('d').map(Number);
    expect(values).toEqual(values.map((_, i) => i));
  });
});

describe('task progress', () => {
  it("a task's progress report shows in its REST status and as /metrics gauges", async () => {
    h = await startHarness({}, { registry: testRegistry() });
    await h.req('POST', '/connectors', { name: 'progressing', config: { 'connector.class': 'FlakySource' } });
    await waitFor(async () => {
      const s = await h.req('GET', '/connectors/progressing/status');
      return (s.body.tasks?.[0]?.progress?.rows?.done ?? 0) >= 2;
    });
    const task = await h.req('GET', '/connectors/progressing/tasks/0/status');
    expect(task.body).toMatchObject({ id: 0, state: 'RUNNING', progress: { phase: 'streaming' } });
    const metrics = await h.req('GET', '/metrics');
    expect(metrics.body).toMatch(/erpstream_task_progress\{connector="progressing",task="0",name="rows\.done"\} \d+/);
  });
});

describe('automatic restart of failed tasks', () => {
  it('restarts a FAILED task after a backoff when task.auto.restart.enable=true', async () => {
    const a = await startHarness({ 'task.auto.restart.enable': 'true' }, { registry: testRegistry() });
    try {
      await a.req('POST', '/connectors', { name: 'auto', config: { 'connector.class': 'FlakySource', topic: 'auto' } });
      await waitFor(async () => (await a.req('GET', '/connectors/auto/status')).body.tasks[0]?.state === 'RUNNING');
      const started = control.startedTasks;
      control.failPoll = true;
      await waitFor(async () => (await a.req('GET', '/connectors/auto/status')).body.tasks[0]?.state === 'FAILED');
      control.failPoll = false;
      await waitFor(
        async () => (await a.req('GET', '/connectors/auto/status')).body.tasks[0]?.state === 'RUNNING',
        5000,
        'the automatic restart',
      );
      expect(control.startedTasks).toBeGreaterThan(started);
      expect(a.logs.some((l) => l.includes('restarting it in 1000 ms'))).toBe(true);
    } finally {
      await a.worker.stop();
    }
  });

  it('without it a failed task stays FAILED', async () => {
    await h.req('POST', '/connectors', { name: 'manual', config: { 'connector.class': 'FlakySource', topic: 'm' } });
    await waitFor(async () => (await status('manual')).tasks[0]?.state === 'RUNNING');
    control.failPoll = true;
    await waitFor(async () => (await status('manual')).tasks[0]?.state === 'FAILED');
    control.failPoll = false;
    await new Promise((r) => setTimeout(r, 1300));
    expect((await status('manual')).tasks[0].state).toBe('FAILED');
  });
});

describe('secrets', () => {
  it('PASSWORD values are [hidden] in REST and logs, placeholders are kept, tasks get resolved values', async () => {
    const secretFile = path.join(h.dir, 'secrets.properties');
    await writeFile(secretFile, 'db.password=s3cr3t-from-file\n');
    const r = await h.req('POST', '/connectors', {
      name: 'sec',
      config: { 'connector.class': 'FlakySource', 'db.password': `\${file:${secretFile}:db.password}` },
    });
    expect(r.body.config['db.password']).toBe(`\${file:${secretFile}:db.password}`);
    await waitFor(() => control.records.includes('password=s3cr3t-from-file'));
    expect((await h.req('GET', '/connectors/sec/tasks')).body[0].config['db.password']).toBe(
      `\${file:${secretFile}:db.password}`,
    );

    await h.req('POST', '/connectors', {
      name: 'plain',
      config: { 'connector.class': 'FlakySource', 'db.password': 'hunter2' },
    });
    expect((await h.req('GET', '/connectors/plain/config')).body['db.password']).toBe('[hidden]');
    expect((await h.req('GET', '/connectors/plain')).body.config['db.password']).toBe('[hidden]');
    expect((await h.req('GET', '/connectors/plain/tasks')).body[0].config['db.password']).toBe('[hidden]');
    // A GET → PUT round trip keeps the real secret (the task restarted afterwards still gets it).
    const cfg = (await h.req('GET', '/connectors/plain/config')).body;
    expect((await h.req('PUT', '/connectors/plain/config', { ...cfg, topic: 'changed' })).status).toBe(200);
    await waitFor(() => control.records.filter((x) => x === 'password=hunter2').length >= 2);
    expect(h.logs.join('\n')).not.toContain('hunter2');
    expect(h.logs.join('\n')).not.toContain('s3cr3t-from-file');
  });
});

describe('worker settings checked at start', () => {
  it('refuses a compression codec the client cannot write, naming the key', async () => {
    await expect(startHarness({ 'producer.compression.type': 'brotli' })).rejects.toThrow(
      'Invalid value brotli for configuration producer.compression.type: Supported values: none, gzip, snappy, lz4, zstd',
    );
  });
  it('refuses basic auth without a password', async () => {
    await expect(startHarness({ 'rest.auth.type': 'basic', 'rest.auth.basic.username': 'ops' })).rejects.toThrow(
      'Missing required configuration "rest.auth.basic.password"',
    );
  });
});

describe('REST authentication', () => {
  it('basic auth: 401 without credentials, 200 with them', async () => {
    const a = await startHarness({
      'rest.auth.type': 'basic',
      'rest.auth.basic.username': 'ops',
      'rest.auth.basic.password': 'pw',
    });
    try {
      const denied = await a.req('GET', '/connectors');
      expect(denied.status).toBe(401);
      expect(denied.body).toEqual({ error_code: 401, message: 'Unauthorized' });
      const ok = await a.req('GET', '/connectors', undefined, {
        authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}`,
      });
      expect(ok.status).toBe(200);
    } finally {
      await a.worker.stop();
    }
  });
  it('bearer token', async () => {
    const a = await startHarness({ 'rest.auth.type': 'bearer', 'rest.auth.bearer.token': 'tok' });
    try {
      expect((await a.req('GET', '/', undefined, { authorization: 'Bearer nope' })).status).toBe(401);
      expect((await a.req('GET', '/', undefined, { authorization: 'Bearer tok' })).status).toBe(200);
    } finally {
      await a.worker.stop();
    }
  });
});

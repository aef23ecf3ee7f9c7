import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from './fake-kafka.js';
import { type Harness, startHarness } from './harness.js';
import { control, testRegistry } from './test-plugins.js';

let h: Harness;
beforeEach(async () => {
  control.records = [];
  process.env.ERPSTREAM_TEST_TASKS = '2';
  process.env.ERPSTREAM_TEST_EXTRA = '1';
  h = await startHarness({}, { registry: testRegistry() });
});
afterEach(async () => {
  await h.worker.stop();
  delete process.env.ERPSTREAM_TEST_TASKS;
  delete process.env.ERPSTREAM_TEST_EXTRA;
});

const validate = (config: Record<string, string>) =>
  h.req('PUT', '/connector-plugins/FlakySource/config/validate', {
    'connector.class': 'FlakySource',
    name: 'v',
    ...config,
  });
const valueOf = (
  body: { configs: Array<{ value: { name: string; value: string | null; errors: string[] } }> },
  k: string,
) => body.configs.find((c) => c.value.name === k)!.value;

describe('config providers are resolved before validation (standalone herder)', () => {
  it('INT keys given as ${env:…} validate as their number, and are shown as the placeholder', async () => {
    const r = await validate({
      'tasks.max': '${env:ERPSTREAM_TEST_TASKS}',
      'extra.tasks': '${env:ERPSTREAM_TEST_EXTRA}',
    });
    expect(r.status).toBe(200);
    expect(r.body.configs.filter((c: { value: { errors: string[] } }) => c.value.errors.length > 0)).toEqual([]);
    expect(r.body.error_count).toBe(0);
    expect(valueOf(r.body, 'tasks.max').value).toBe('${env:ERPSTREAM_TEST_TASKS}');
    expect(valueOf(r.body, 'extra.tasks').value).toBe('${env:ERPSTREAM_TEST_EXTRA}');

    process.env.ERPSTREAM_TEST_TASKS = 'two';
    const bad = await validate({ 'tasks.max': '${env:ERPSTREAM_TEST_TASKS}' });
    expect(valueOf(bad.body, 'tasks.max').errors).toEqual([
      'Invalid value two for configuration tasks.max: Not a number of type INT',
      // Connect 3.9.1 answers both: the unparsable value is validated as null too.
      'Invalid value null for configuration tasks.max: Value must be non-null',
    ]);
  });

  it('a connector with tasks.max from ${env:…} is created and runs that many tasks; GET keeps the placeholder', async () => {
    const config = { 'connector.class': 'FlakySource', 'tasks.max': '${env:ERPSTREAM_TEST_TASKS}', 'extra.tasks': '1' };
    const r = await h.req('POST', '/connectors', { name: 'envtasks', config });
    expect(r.status).toBe(201);
    // min(tasks.max, 1) + extra.tasks = 2 tasks: within tasks.max=2 only when the placeholder was resolved.
    await waitFor(async () => (await h.req('GET', '/connectors/envtasks/status')).body.tasks.length === 2);
    expect((await h.req('GET', '/connectors/envtasks/status')).body.connector.state).toBe('RUNNING');
    expect((await h.req('GET', '/connectors/envtasks/config')).body['tasks.max']).toBe('${env:ERPSTREAM_TEST_TASKS}');
  });

  it('a PASSWORD from ${file:…} is never shown resolved: not in validate values, errors, 400s, GETs or logs', async () => {
    const secretFile = path.join(h.dir, 'secrets.properties');
    const secret = 'bad-s3cr3t-from-file';
    await writeFile(secretFile, `db.password=${secret}\n`);
    const placeholder = `\${file:${secretFile}:db.password}`;

    const r = await validate({ 'db.password': placeholder });
    expect(valueOf(r.body, 'db.password')).toMatchObject({
      value: '[hidden]',
      errors: [`login refused for ${placeholder}`], // the connector saw the secret; the answer does not
    });
    expect(JSON.stringify(r.body)).not.toContain(secret);

    const created = await h.req('POST', '/connectors', {
      name: 'sec',
      config: { 'connector.class': 'FlakySource', 'db.password': placeholder },
    });
    expect(created.status).toBe(400);
    expect(created.body.message).toContain(`login refused for ${placeholder}`);
    expect(JSON.stringify(created.body)).not.toContain(secret);

    await writeFile(secretFile, 'db.password=good-s3cr3t\n');
    expect(
      (
        await h.req('POST', '/connectors', {
          name: 'sec',
          config: { 'connector.class': 'FlakySource', 'db.password': placeholder },
        })
      ).status,
    ).toBe(201);
    await waitFor(() => control.records.includes('password=good-s3cr3t'));
    for (const p of ['/connectors/sec', '/connectors/sec/config', '/connectors/sec/tasks', '/connectors/sec/status']) {
      expect(JSON.stringify((await h.req('GET', p)).body)).not.toContain('s3cr3t');
    }
    expect(h.logs.join('\n')).not.toContain('s3cr3t');
  });
});

describe('placeholders the worker cannot resolve are named at validate and create time', () => {
  it('answers validate with the placeholder on its key, refuses the create with it, and starts nothing', async () => {
    const placeholder = '${env:ERPSTREAM_TEST_NOT_SET_ANYWHERE}';
    const r = await validate({ 'db.password': placeholder });
    expect(valueOf(r.body, 'db.password').errors).toEqual([
      "`${env:ERPSTREAM_TEST_NOT_SET_ANYWHERE}` is not set in the worker's environment",
    ]);
    const created = await h.req('POST', '/connectors', {
      name: 'unset',
      config: { 'connector.class': 'FlakySource', 'db.password': placeholder },
    });
    expect(created.status).toBe(400);
    expect(created.body.message).toContain(
      "`${env:ERPSTREAM_TEST_NOT_SET_ANYWHERE}` is not set in the worker's environment",
    );
    expect((await h.req('GET', '/connectors')).body).toEqual([]);
  });

  it('a connector whose placeholder stops resolving FAILS at restart naming it, not with the literal text', async () => {
    process.env.ERPSTREAM_TEST_GOES_AWAY = 'pw';
    const config = { 'connector.class': 'FlakySource', 'db.password': '${env:ERPSTREAM_TEST_GOES_AWAY}' };
    expect((await h.req('POST', '/connectors', { name: 'goes', config })).status).toBe(201);
    delete process.env.ERPSTREAM_TEST_GOES_AWAY;
    await h.req('POST', '/connectors/goes/restart');
    await waitFor(async () => (await h.req('GET', '/connectors/goes/status')).body.connector.state === 'FAILED');
    const { trace } = (await h.req('GET', '/connectors/goes/status')).body.connector;
    expect(trace).toContain("`${env:ERPSTREAM_TEST_GOES_AWAY}` is not set in the worker's environment (db.password)");
  });
});

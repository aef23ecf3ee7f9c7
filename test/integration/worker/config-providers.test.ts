import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEnv, uniqueSuffix } from '../env.js';
import { clusterProps, rest, stopWorker, waitFor, type WorkerProcess } from './distributed/cluster.js';
import { startWorkerProcess } from '../../support/erpstream-cli.js';

const brokers = requireEnv('KAFKA_BROKERS');
const pgUrl = new URL(requireEnv('PG_URL'));

interface ConfigInfos {
  error_count: number;
  configs: Array<{ value: { name: string; value: string | null; errors: string[] } }>;
}
const valueOf = (infos: ConfigInfos, name: string) => infos.configs.find((c) => c.value.name === name)?.value;
const errorsOf = (infos: ConfigInfos) => infos.configs.flatMap((c) => c.value.errors);

/**
 * Config providers are resolved before a connector config is validated (as Connect does), in both modes,
 * through a real worker process: INT keys given as `${env:…}` pass, a PASSWORD from `${file:…}` reaches the
 * database, and the resolved secret never comes back in REST answers or the worker's log.
 */
describe.each(['standalone', 'distributed'] as const)('config providers before validation (%s)', (mode) => {
  let dir: string;
  let worker: WorkerProcess;
  const secretFile = () => path.join(dir, 'secrets.properties');
  const leaked = `wrong-${uniqueSuffix()}`;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-it-providers-'));
    // The worker process inherits these.
    process.env.ERPSTREAM_IT_TASKS = '2';
    process.env.ERPSTREAM_IT_BATCH = '50';
    const props = path.join(dir, 'worker.properties');
    if (mode === 'standalone') {
      await writeFile(
        props,
        [
          `bootstrap.servers=${brokers}`,
          'listeners=http://127.0.0.1:0',
          `offset.storage.file.filename=${path.join(dir, 'offsets.json')}`,
        ].join('\n'),
      );
      worker = await startWorkerProcess([props, '--standalone']);
    } else {
      await writeFile(props, clusterProps(brokers, uniqueSuffix()));
      worker = await startWorkerProcess([props]);
      await waitFor(async () => (await fetch(`${worker.url}/health`)).status === 200, 60_000, 'a healthy worker');
    }
  }, 120_000);
  afterAll(async () => {
    if (worker) await stopWorker(worker);
    delete process.env.ERPSTREAM_IT_TASKS;
    delete process.env.ERPSTREAM_IT_BATCH;
  });

  const erpSource = () => ({
    'connector.class': 'ErpSource',
    name: 'providers',
    'connection.url': `postgresql://${pgUrl.host}${pgUrl.pathname}`,
    'connection.user': decodeURIComponent(pgUrl.username),
    'connection.password': `\${file:${secretFile()}:pg.password}`,
    'tasks.max': '${env:ERPSTREAM_IT_TASKS}',
    'max.batch.size': '${env:ERPSTREAM_IT_BATCH}',
    'topic.prefix': 'it-providers',
    'capture.mode': 'timestamp_incrementing',
    'timestamp.column.name': 'updated_at',
    'incrementing.column.name': 'id',
  });

  it('validates the resolved values and shows the placeholders', async () => {
    await writeFile(secretFile(), `pg.password=${decodeURIComponent(pgUrl.password)}\n`);
    const r = await rest<ConfigInfos>(worker.url, 'PUT', '/connector-plugins/ErpSource/config/validate', erpSource());
    expect(r.status).toBe(200);
    // Connected: with its settings complete, the connector's own validate() reached the database.
    expect(errorsOf(r.body).join('\n')).not.toMatch(/Missing/);
    for (const key of ['tasks.max', 'max.batch.size', 'connection.password', 'connection.url']) {
      expect(valueOf(r.body, key)?.errors, key).toEqual([]);
    }
    // Unresolved, the password would have been "${file:…}" and the database would have refused it.
    expect(errorsOf(r.body).join('\n')).not.toMatch(/password authentication failed/);
    expect(valueOf(r.body, 'tasks.max')?.value).toBe('${env:ERPSTREAM_IT_TASKS}');
    expect(valueOf(r.body, 'connection.password')?.value).toBe('[hidden]');
  });

  it('a refused password is reported without its value, in the answer and in the log', async () => {
    await writeFile(secretFile(), `pg.password=${leaked}\n`);
    const r = await rest<ConfigInfos>(worker.url, 'PUT', '/connector-plugins/ErpSource/config/validate', erpSource());
    expect(errorsOf(r.body).join('\n')).toMatch(/password authentication failed/);
    const created = await rest<{ message: string }>(worker.url, 'POST', '/connectors', {
      name: 'providers-refused',
      config: { ...erpSource(), name: 'providers-refused' },
    });
    expect(created.status).toBe(400);
    expect(JSON.stringify(r.body) + created.body.message).not.toContain(leaked);
    expect(worker.stderr.join('\n')).not.toContain(leaked);
  });

  it('creates a connector whose tasks.max and INT keys are placeholders; GET returns them raw', async () => {
    const input = path.join(dir, 'in.txt');
    await writeFile(input, 'a\nb\n');
    const config = {
      'connector.class': 'FileStreamSource',
      file: input,
      topic: `it-providers-${uniqueSuffix()}`,
      'tasks.max': '${env:ERPSTREAM_IT_TASKS}',
      'batch.size': '${env:ERPSTREAM_IT_BATCH}',
    };
    const created = await waitFor(
      async () => {
        const r = await rest<{ message?: string }>(worker.url, 'PUT', '/connectors/providers-file/config', config);
        return r.status === 409 ? null : r; // a distributed worker may still be joining its group
      },
      30_000,
      'the connector to be created',
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await waitFor(
      async () =>
        (await rest<{ tasks: Array<{ state: string }> }>(worker.url, 'GET', '/connectors/providers-file/status')).body
          .tasks[0]?.state === 'RUNNING',
      30_000,
      'a RUNNING task',
    );
    const got = await rest<Record<string, string>>(worker.url, 'GET', '/connectors/providers-file/config');
    expect(got.body['tasks.max']).toBe('${env:ERPSTREAM_IT_TASKS}');
    expect(got.body['batch.size']).toBe('${env:ERPSTREAM_IT_BATCH}');
  });
});

import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeConnect, type SeenRequest, closedPort, startFakeConnect } from '../connect/fake-connect.js';
import { runConnectCli } from '../connect/run-connect-cli.js';

/**
 * Rendering and error paths of `erpstream connectors ...` against scripted Connect 3.9 answers; the same
 * commands run against real Apache Kafka Connect in test/integration/cli/connectors.test.ts.
 */

const FILE_SOURCE = 'org.apache.kafka.connect.file.FileStreamSourceConnector';
const TRACE =
  "org.apache.kafka.connect.errors.ConnectException: Couldn't find file /data/in.txt\n\tat org.apache.kafka.connect.file.FileStreamSourceTask.poll(FileStreamSourceTask.java:120)";

const EXPANDED = {
  'orders-outbox': {
    status: {
      name: 'orders-outbox',
      connector: { state: 'RUNNING', worker_id: '10.0.0.5:8083' },
      tasks: [
        { id: 0, state: 'RUNNING', worker_id: '10.0.0.5:8083' },
        { id: 1, state: 'FAILED', worker_id: '10.0.0.6:8083', trace: TRACE },
      ],
      type: 'source',
    },
    info: {
      name: 'orders-outbox',
      config: { 'connector.class': FILE_SOURCE, name: 'orders-outbox' },
      tasks: [],
      type: 'source',
    },
  },
  'archive-sink': {
    status: {
      name: 'archive-sink',
      connector: { state: 'STOPPED', worker_id: '10.0.0.6:8083' },
      tasks: [],
      type: 'sink',
    },
    info: {
      name: 'archive-sink',
      config: { 'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector' },
      tasks: [],
      type: 'sink',
    },
  },
};

let fake: FakeConnect | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function cli(argv: string[], routes: Parameters<typeof startFakeConnect>[0], stdin?: string) {
  fake = await startFakeConnect(routes);
  return runConnectCli(argv, {
    env: { ERPSTREAM_CONNECT_URL: fake.url, ERPSTREAM_CONFIG: '/nonexistent/config.yaml' },
    ...(stdin === undefined ? {} : { stdin }),
  });
}

describe('connectors list', () => {
  it('prints one row per connector, sorted, with a task summary', async () => {
    const r = await cli(['connectors', 'list'], {
      'GET /connectors?expand=status&expand=info': { status: 200, body: EXPANDED },
      'GET /connectors': { status: 200, body: Object.keys(EXPANDED) },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatchInlineSnapshot(`
      "NAME           TYPE    STATE    TASKS                   CLASS
      archive-sink   sink    STOPPED  0                       org.apache.kafka.connect.file.FileStreamSinkConnector
      orders-outbox  source  RUNNING  1/2 running (1 FAILED)  org.apache.kafka.connect.file.FileStreamSourceConnector
      "
    `);
  });

  it('is what connectors status shows without a name (not a usage error)', async () => {
    const routes = {
      'GET /connectors?expand=status&expand=info': { status: 200, body: EXPANDED },
      'GET /connectors': { status: 200, body: Object.keys(EXPANDED) },
    };
    const list = await cli(['connectors', 'list'], routes);
    await fake?.close();
    const status = await cli(['connectors', 'status'], routes);
    expect(status.code).toBe(0);
    expect(status.stdout).toBe(list.stdout);
  });

  it('filters by state and prints JSON with -o json after the subcommand', async () => {
    const r = await cli(['connectors', 'list', '--state', 'stopped', '-o', 'json'], {
      'GET /connectors?expand=status&expand=info': { status: 200, body: EXPANDED },
      'GET /connectors': { status: 200, body: Object.keys(EXPANDED) },
    });
    expect(JSON.parse(r.stdout)).toEqual([
      {
        name: 'archive-sink',
        type: 'sink',
        state: 'STOPPED',
        worker_id: '10.0.0.6:8083',
        class: 'org.apache.kafka.connect.file.FileStreamSinkConnector',
        tasks: [],
      },
    ]);
  });
});

describe('connectors status / describe', () => {
  it('shows the connector and each task, with the headline of a failure trace', async () => {
    const r = await cli(['connectors', 'status', 'orders-outbox'], {
      'GET /connectors/orders-outbox/status': { status: 200, body: EXPANDED['orders-outbox'].status },
    });
    expect(r.stdout).toMatchInlineSnapshot(`
      "INSTANCE                 STATE    WORKER         TRACE
      connector orders-outbox  RUNNING  10.0.0.5:8083
      task 0                   RUNNING  10.0.0.5:8083
      task 1                   FAILED   10.0.0.6:8083  org.apache.kafka.connect.errors.ConnectException: Couldn't find file /data/in.txt
      "
    `);
  });

  it("prints Connect's status body unchanged with -o json", async () => {
    const r = await cli(['-o', 'json', 'connectors', 'status', 'orders-outbox'], {
      'GET /connectors/orders-outbox/status': { status: 200, body: EXPANDED['orders-outbox'].status },
    });
    expect(JSON.parse(r.stdout)).toEqual(EXPANDED['orders-outbox'].status);
  });

  it('describes with the full trace and the config with secrets hidden', async () => {
    const config = { 'connector.class': FILE_SOURCE, name: 'orders-outbox', 'db.password': 'hunter2', topic: 'orders' };
    const r = await cli(['connectors', 'describe', 'orders-outbox'], {
      'GET /connectors/orders-outbox': {
        status: 200,
        body: { name: 'orders-outbox', config, tasks: [], type: 'source' },
      },
      'GET /connectors/orders-outbox/status': { status: 200, body: EXPANDED['orders-outbox'].status },
      'GET /connectors/orders-outbox/topics': { status: 200, body: { 'orders-outbox': { topics: ['orders'] } } },
      [`GET /connector-plugins/${FILE_SOURCE}/config`]: { status: 200, body: [] },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\tat org.apache.kafka.connect.file.FileStreamSourceTask.poll');
    expect(r.stdout).toContain('Topics: orders');
    expect(r.stdout).toContain('db.password      [hidden]');
    expect(r.stdout).not.toContain('hunter2');
  });
});

/** Connect's validate answer declaring these keys of FileStreamSource (and the framework's), with these errors. */
function validation(keys: string[], errors: Record<string, string[]> = {}) {
  const configs = keys.map((name) => ({
    definition: {
      name,
      type: name === 'transforms' ? 'LIST' : 'STRING',
      required: false,
      default_value: null,
      importance: 'HIGH',
      documentation: '',
      group: 'Common',
      order: 1,
      width: 'NONE',
      display_name: name,
      dependents: [],
    },
    value: { name, value: null, recommended_values: [], errors: errors[name] ?? [], visible: true },
  }));
  const body = { name: FILE_SOURCE, error_count: Object.values(errors).flat().length, groups: ['Common'], configs };
  return { [`PUT /connector-plugins/${FILE_SOURCE}/config/validate`]: { status: 200, body } };
}
const FILE_SOURCE_KEYS = ['name', 'connector.class', 'tasks.max', 'transforms', 'topic', 'file', 'conn.password'];

describe('connectors apply', () => {
  const file = JSON.stringify({
    name: 'a',
    config: { 'connector.class': FILE_SOURCE, topic: 'new', 'conn.password': 'n3w', 'tasks.max': 1 },
  });
  const current = { 'connector.class': FILE_SOURCE, name: 'a', topic: 'old', 'conn.password': '0ld', file: '/x' };

  it('shows the diff with secrets hidden, then writes once with PUT', async () => {
    const r = await cli(
      ['connectors', 'apply', '-f', '-'],
      {
        'GET /connectors/a/config': { status: 200, body: current },
        [`GET /connector-plugins/${FILE_SOURCE}/config`]: { status: 200, body: [] },
        ...validation(FILE_SOURCE_KEYS),
        'PUT /connectors/a/config': { status: 200, body: { name: 'a', config: {}, tasks: [], type: 'source' } },
      },
      file,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'connector "a" will be updated: 1 added, 2 changed, 1 removed (stdin)\n' +
        '  ~ conn.password: [hidden] → [hidden]\n' +
        '  - file: /x\n' +
        '  + tasks.max: 1\n' +
        '  ~ topic: old → new\n' +
        'connector "a" updated\n',
    );
    const put = fake!.requests.filter((q: SeenRequest) => q.method === 'PUT' && q.url === '/connectors/a/config');
    expect(put).toHaveLength(1);
    expect(JSON.parse(put[0]!.body)).toEqual({
      'connector.class': FILE_SOURCE,
      topic: 'new',
      'conn.password': 'n3w',
      'tasks.max': '1',
      name: 'a',
    });
    expect(r.stdout + r.stderr).not.toMatch(/n3w|0ld/);
  });

  it('writes nothing when the cluster already has that config', async () => {
    const r = await cli(
      ['connectors', 'apply', '-f', '-', '-o', 'json'],
      {
        'GET /connectors/a/config': {
          status: 200,
          body: { 'connector.class': FILE_SOURCE, name: 'a', topic: 'new', 'conn.password': 'n3w', 'tasks.max': '1' },
        },
        [`GET /connector-plugins/${FILE_SOURCE}/config`]: { status: 200, body: [] },
      },
      file,
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { name: 'a', source: 'stdin', action: 'unchanged', changes: [], written: false },
    ]);
    expect(fake!.requests.some((q: SeenRequest) => q.method !== 'GET')).toBe(false);
  });

  it('retries a 409 during a rebalance and says so on stderr', async () => {
    const r = await cli(
      ['connectors', 'apply', '-f', '-'],
      {
        'GET /connectors/a/config': { status: 404, body: { error_code: 404, message: 'Connector a not found' } },
        [`GET /connector-plugins/${FILE_SOURCE}/config`]: { status: 200, body: [] },
        ...validation(FILE_SOURCE_KEYS),
        'PUT /connectors/a/config': [
          {
            status: 409,
            body: {
              error_code: 409,
              message:
                'Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)',
            },
          },
          { status: 201, body: { name: 'a', config: {}, tasks: [], type: 'source' } },
        ],
      },
      file,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^Kafka Connect answered 409 \(Cannot complete request momentarily due to stale configuration .*\); retrying in 0\.\d s \(attempt 2\)\n$/,
    );
    expect(r.stdout).toContain('connector "a" created');
  });

  it('exits 2 on a config Connect rejects, with its message', async () => {
    const message =
      'Connector configuration is invalid and contains the following 1 error(s):\nMissing required configuration "file" which has no default value.\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`';
    const r = await cli(
      ['connectors', 'apply', '-f', '-'],
      {
        'GET /connectors/a/config': { status: 404, body: { error_code: 404, message: 'Connector a not found' } },
        [`GET /connector-plugins/${FILE_SOURCE}/config`]: { status: 200, body: [] },
        ...validation(FILE_SOURCE_KEYS),
        'PUT /connectors/a/config': { status: 400, body: { error_code: 400, message } },
      },
      file,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Missing required configuration "file" which has no default value.');
    expect(r.stderr).toContain('(applying stdin)');
    expect(r.stderr).toContain(
      'hint: Fix the config keys named above; `erpstream plugins validate -f <file>` lists every error per key.',
    );
  });

  const typo = JSON.stringify({
    name: 'a',
    config: { 'connector.class': FILE_SOURCE, topic: 't', 'conection.url': 'x', 'tasks.max': 1 },
  });
  const absent = {
    'GET /connectors/a/config': { status: 404, body: { error_code: 404, message: 'Connector a not found' } },
    [`GET /connector-plugins/${FILE_SOURCE}/config`]: { status: 200, body: [] },
    'PUT /connectors/a/config': { status: 201, body: { name: 'a', config: {}, tasks: [], type: 'source' } },
  };

  it('warns about a key Connect would ignore, with what it probably meant, and still applies', async () => {
    const keys = [...FILE_SOURCE_KEYS, 'connection.url'];
    for (const argv of [
      ['connectors', 'apply', '-f', '-'],
      ['connectors', 'apply', '-f', '-', '--dry-run'],
    ]) {
      const r = await cli(argv, { ...absent, ...validation(keys) }, typo);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(
        '  ? warning: unknown key "conection.url": not a configuration of FileStreamSourceConnector or of the framework, so it is ignored; did you mean "connection.url"?\n',
      );
      await fake?.close();
      fake = undefined;
    }
    const json = await cli(['connectors', 'apply', '-f', '-', '-o', 'json'], { ...absent, ...validation(keys) }, typo);
    expect(JSON.parse(json.stdout)[0].warnings).toEqual([
      expect.objectContaining({ key: 'conection.url', suggestions: ['connection.url'] }),
    ]);
  });

  it('--strict refuses unknown keys and writes nothing', async () => {
    const r = await cli(
      ['connectors', 'apply', '-f', '-', '--strict'],
      { ...absent, ...validation(FILE_SOURCE_KEYS) },
      typo,
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('  ! conection.url: unknown key "conection.url"');
    expect(r.stderr).toContain('nothing was written');
    expect(fake!.requests.filter((q: SeenRequest) => q.method === 'PUT' && q.url === '/connectors/a/config')).toEqual(
      [],
    );
  });

  it('create: a config the cluster rejects ends with an error line, as apply does, and creates nothing', async () => {
    const missing = 'Missing required configuration "file" which has no default value.';
    const r = await cli(
      ['connectors', 'create', '-f', '-'],
      { ...absent, ...validation(FILE_SOURCE_KEYS, { file: [missing] }) },
      file,
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(missing);
    expect(r.stderr).toContain('error: the cluster rejects the config keys marked "!" above; nothing was created');
    expect(fake!.requests.some((q: SeenRequest) => q.method === 'POST' && q.url === '/connectors')).toBe(false);
  });

  it('lists each validation error once and writes nothing when the config is invalid', async () => {
    const missing = 'Missing required configuration "file" which has no default value.';
    const r = await cli(
      ['connectors', 'apply', '-f', '-'],
      { ...absent, ...validation(FILE_SOURCE_KEYS, { file: [missing, missing] }) },
      file,
    );
    expect(r.code).toBe(2);
    expect(r.stdout.split(missing)).toHaveLength(2);
    expect(fake!.requests.some((q: SeenRequest) => q.method === 'PUT' && q.url === '/connectors/a/config')).toBe(false);
  });
});

describe('connectors errors and exit codes', () => {
  it("exits 1 with Connect's message on 404, naming the next step", async () => {
    const r = await cli(['connectors', 'pause', 'nope'], {
      'PUT /connectors/nope/pause': { status: 404, body: { error_code: 404, message: 'Unknown connector nope' } },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: Kafka Connect at ${fake!.url} answered 404 to PUT /connectors/nope/pause: Unknown connector nope\n` +
        'hint: `erpstream connectors list` shows the connectors that exist.\n',
    );
  });

  it('stops at the first failing connector and names the ones not attempted', async () => {
    const r = await cli(['connectors', 'resume', 'a', 'b', 'c'], {
      'PUT /connectors/a/resume': { status: 202 },
      'PUT /connectors/b/resume': { status: 404, body: { error_code: 404, message: 'Unknown connector b' } },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('connector "a" resumed\n');
    expect(r.stderr).toContain('Unknown connector b (not attempted: c)');
  });

  it('-e selects connectors by regular expression over the whole name', async () => {
    const r = await cli(['connectors', 'pause', '-e', 'orders-.*', 'x'], {
      'GET /connectors': { status: 200, body: ['orders-b', 'x', 'orders-a', 'my-orders-c'] },
      'PUT /connectors/orders-a/pause': { status: 202 },
      'PUT /connectors/orders-b/pause': { status: 202 },
      'PUT /connectors/x/pause': { status: 202 },
    });
    expect(r).toMatchObject({
      code: 0,
      stdout: 'connector "orders-a" paused\nconnector "orders-b" paused\nconnector "x" paused\n',
    });
    const none = await cli(['connectors', 'delete', '-e', 'nothing.*'], {
      'GET /connectors': { status: 200, body: ['a'] },
    });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('No connector matches /nothing.*/.');
    expect(fake!.requests.some((q) => q.method === 'DELETE')).toBe(false);
  });

  it('exits 3 when nothing answers', async () => {
    const port = await closedPort();
    const r = await runConnectCli(['connectors', 'list', '--connect-url', `http://127.0.0.1:${port}`], { env: {} });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `error: Cannot reach Kafka Connect at http://127.0.0.1:${port} (GET /connectors?expand=status&expand=info): connection refused`,
    );
    expect(r.stderr).toContain('hint: Check that the Connect worker runs');
  });

  it('exits 2 for bad arguments before calling the cluster', async () => {
    const r = await cli(['connectors', 'patch', 'a', '--set', 'novalue'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Invalid --set "novalue": expected key=value.');
    const t = await cli(['tasks', 'restart', 'a', 'x'], {});
    expect(t.code).toBe(2);
    const state = await cli(['connectors', 'create', '-f', '-', '--initial-state', 'sleeping'], {});
    expect(state.code).toBe(2);
    expect(state.stderr).toContain(
      "option '--initial-state <state>' argument 'sleeping' is invalid. Use RUNNING, PAUSED or STOPPED.",
    );
    expect(fake!.requests).toHaveLength(0);
  });

  it('patches by merging into the current config; --dry-run writes nothing', async () => {
    const r = await cli(['connectors', 'patch', 'a', '--set', 'tasks.max=3', '--unset', 'file', '--dry-run'], {
      'GET /connectors/a/config': {
        status: 200,
        body: { 'connector.class': FILE_SOURCE, name: 'a', 'tasks.max': '1', file: '/x' },
      },
      [`GET /connector-plugins/${FILE_SOURCE}/config`]: { status: 200, body: [] },
      [`PUT /connector-plugins/${FILE_SOURCE}/config/validate`]: {
        status: 200,
        body: { name: FILE_SOURCE, error_count: 0, groups: [], configs: [] },
      },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'connector "a" will be updated: 0 added, 1 changed, 1 removed (command line)\n' +
        '  - file: /x\n' +
        '  ~ tasks.max: 1 → 3\n' +
        'dry run: 1 connector(s) would change; nothing was written\n',
    );
    expect(fake!.requests.filter((q) => q.url === '/connectors/a/config' && q.method === 'PUT')).toHaveLength(0);
  });
});

describe('--watch', () => {
  it('redraws the status in place on a terminal, round after round', async () => {
    const status = {
      name: 'a',
      connector: { state: 'RUNNING', worker_id: 'w1' },
      tasks: [{ id: 0, state: 'FAILED', worker_id: 'w1', trace: 'java.lang.IllegalStateException: boom\n\tat x' }],
      type: 'sink',
    };
    fake = await startFakeConnect({ 'GET /connectors/a/status': { status: 200, body: status } });
    const { watchView } = await import('../../../../cli/watch.js');
    let out = '';
    const stdout = Object.assign(new PassThrough(), { isTTY: true });
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    const ctx = {
      stdin: new PassThrough(),
      stdout,
      stderr: new PassThrough(),
      env: {},
      exitCode: 0,
      output: 'table' as const,
      noColor: true,
    };
    let calls = 0;
    await watchView(
      ctx,
      async (c) => {
        calls++;
        c.stdout.write(`round ${calls}\n`);
      },
      { intervalMs: 1, rounds: 3 },
    );
    expect(calls).toBe(3);
    expect(out.split('\x1b[H\x1b[J')).toHaveLength(4);
    expect(out).toContain('round 3\n');
    const r = await runConnectCli(['connectors', 'status', 'a', '--watch', '0.5', '--watch-rounds', '2'], {
      env: { ERPSTREAM_CONNECT_URL: fake.url, ERPSTREAM_CONFIG: '/nonexistent/config.yaml' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout.match(/Every 0\.5 s/g)).toHaveLength(2);
    expect(r.stdout.match(/task 0 +FAILED/g)).toHaveLength(2);
  });
});

describe('status progress', () => {
  it('draws a bar for a snapshot and lists figures for other progress reports', async () => {
    const { progressText } = await import('../../../../cli/commands/connectors.js');
    expect(progressText({ snapshot: { table: 'erp.shipment', rows: 6000, total: 10000, done: false } })).toBe(
      'snapshot erp.shipment [######----] 60% 6,000/10,000',
    );
    expect(progressText({ snapshot: { table: 'erp.party', rows: 12, total: 10, done: true } })).toBe(
      'snapshot erp.party [##########] 100% 12/10',
    );
    expect(progressText({ snapshot: { table: 'erp.shipment', rows: 0, total: 0, done: true } })).toBe(
      'snapshot erp.shipment [##########] 100% 0/0',
    );
    expect(progressText({ parked: 12, released: 1340, breaker: 'closed' })).toBe('parked 12, released 1,340');
    // Every non-zero counter, wherever the task puts it (`delivered 0` once hid `staleDropped 17`).
    expect(
      progressText({
        records: 30,
        delivered: 0,
        released: 0,
        parked: 0,
        oldestParkedAgeMs: 5000,
        staleDropped: 17,
        superseded: 0,
        filtered: 4,
        dlq: { expired: 2, poison: 1 },
        lookupQueries: 3,
        waiting: 'for the broker since 10:00:00',
      }),
    ).toBe(
      'records 30, staleDropped 17, filtered 4, dlq 3 (expired 2, poison 1), lookupQueries 3, waiting for the broker since 10:00:00',
    );
    expect(progressText(undefined)).toBe('');
  });
});

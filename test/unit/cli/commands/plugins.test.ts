import { afterEach, describe, expect, it } from 'vitest';
import { type FakeConnect, startFakeConnect } from '../connect/fake-connect.js';
import { runConnectCli } from '../connect/run-connect-cli.js';

const FILE_SOURCE = 'org.apache.kafka.connect.file.FileStreamSourceConnector';
const PLUGINS = [
  { class: 'org.apache.kafka.connect.file.FileStreamSinkConnector', type: 'sink', version: '3.9.1' },
  { class: FILE_SOURCE, type: 'source', version: '3.9.1' },
  { class: 'org.apache.kafka.connect.transforms.Filter', type: 'transformation', version: '3.9.1' },
];

let fake: FakeConnect | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function cli(argv: string[], routes: Parameters<typeof startFakeConnect>[0], stdin?: string) {
  fake = await startFakeConnect(routes);
  return runConnectCli(argv, { env: { ERPSTREAM_CONNECT_URL: fake.url }, ...(stdin === undefined ? {} : { stdin }) });
}

describe('erpstream plugins', () => {
  it('lists connector plugins, or other types with --type (asking Connect for all of them)', async () => {
    const routes = {
      'GET /connector-plugins?connectorsOnly=true': { status: 200, body: PLUGINS.slice(0, 2) },
      'GET /connector-plugins?connectorsOnly=false': { status: 200, body: PLUGINS },
    };
    expect((await cli(['plugins', 'list'], routes)).stdout).toBe(
      'CLASS                                                    TYPE    VERSION\n' +
        'org.apache.kafka.connect.file.FileStreamSinkConnector    sink    3.9.1\n' +
        `${FILE_SOURCE}  source  3.9.1\n`,
    );
    const smts = await cli(['plugins', 'list', '--type', 'transformation', '-o', 'json'], routes);
    expect(JSON.parse(smts.stdout)).toEqual([PLUGINS[2]]);
    expect((await cli(['plugins', 'list', '--type', 'smt'], routes)).code).toBe(2);
  });

  it("validate prints each invalid key with Connect's errors and exits 2", async () => {
    const result = {
      name: FILE_SOURCE,
      error_count: 1,
      groups: ['Common'],
      configs: [
        {
          definition: null,
          value: {
            name: 'topic',
            value: null,
            recommended_values: [],
            errors: ['Missing required configuration "topic" which has no default value.'],
            visible: true,
          },
        },
        { definition: null, value: { name: 'file', value: '/x', recommended_values: [], errors: [], visible: true } },
      ],
    };
    const r = await cli(
      ['plugins', 'validate', '-f', '-'],
      { [`PUT /connector-plugins/${FILE_SOURCE}/config/validate`]: { status: 200, body: result } },
      JSON.stringify({ name: 'a', 'connector.class': FILE_SOURCE, file: '/x' }),
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(
      'connector "a" is invalid (stdin):\n  ! topic: Missing required configuration "topic" which has no default value.\n',
    );
    expect(JSON.parse(fake!.requests[0]!.body)).toEqual({ name: 'a', 'connector.class': FILE_SOURCE, file: '/x' });
  });
});

describe('erpstream loggers', () => {
  it('sets a level on the whole cluster (204) and refuses unknown levels before calling', async () => {
    const r = await cli(['loggers', 'set', 'io.debezium', 'debug', '--scope', 'cluster'], {
      'PUT /admin/loggers/io.debezium?scope=cluster': { status: 204 },
    });
    expect(r).toMatchObject({
      code: 0,
      stdout: 'logger "io.debezium" set to DEBUG on every worker (applied asynchronously)\n',
    });
    expect(JSON.parse(fake!.requests[0]!.body)).toEqual({ level: 'DEBUG' });
    const bad = await cli(['loggers', 'set', 'root', 'verbose'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Invalid log level "verbose".');
    expect(fake!.requests).toHaveLength(0);
  });

  it('lists levels with their last change time', async () => {
    const r = await cli(['loggers', 'get'], {
      'GET /admin/loggers': {
        status: 200,
        body: {
          root: { level: 'INFO', last_modified: null },
          'io.debezium': { level: 'DEBUG', last_modified: 1700000000000 },
        },
      },
    });
    expect(r.stdout).toBe(
      'LOGGER       LEVEL  LAST_MODIFIED\nroot         INFO\nio.debezium  DEBUG  2023-11-14T22:13:20.000Z\n',
    );
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectClient } from '../../../cli/connect/client.js';
import type { ConnectorStateInfo } from '../../../cli/connect/types.js';
import { closedPort } from '../../unit/cli/connect/fake-connect.js';
import { runConnectCli } from '../../unit/cli/connect/run-connect-cli.js';
import { requireEnv, uniqueSuffix } from '../env.js';

/**
 * `erpstream connectors|tasks|offsets|plugins|loggers` against a real Kafka-Connect-compatible cluster:
 * Apache Kafka Connect 3.9 from `scripts/stack up --with-connect` (CONNECT_URL), and later erpstream's own
 * worker, by pointing CONNECT_URL at it. Needs org.apache.kafka.connect.file.FileStreamSourceConnector.
 */

const CONNECT_URL = connectUrl();
/**
 * erpstream's worker hides every secret-named value in its answers (docs/worker.md), Connect only PASSWORD
 * keys of the plugin's spec: `db.password` (undeclared here) comes back as `[hidden]` from erpstream only,
 * so `apply` cannot compare it there and writes it again (a rotation must never be skipped).
 */
const HIDES_UNDECLARED_SECRETS = process.env.ERPSTREAM_CLI_SUITE_TARGET === 'erpstream';

function connectUrl(): string {
  if (!process.env.CONNECT_URL?.trim()) {
    throw new Error(
      'CONNECT_URL is not set: these tests need a Kafka Connect worker. Start Apache Kafka Connect 3.9 with ' +
        '`scripts/stack up --with-connect && eval "$(scripts/stack env)"`, or point CONNECT_URL at erpstream\'s worker.',
    );
  }
  return requireEnv('CONNECT_URL');
}
const FILE_SOURCE = 'org.apache.kafka.connect.file.FileStreamSourceConnector';
const suffix = uniqueSuffix();
const created = new Set<string>();
const api = new ConnectClient({ url: CONNECT_URL });
let dir: string;
let env: NodeJS.ProcessEnv;

const RETRY_NOTICE = /^Kafka Connect answered (409|500) \(.*\); retrying in \d+\.\d s \(attempt \d+\)$/;

function cli(...argv: string[]) {
  return runConnectCli(argv, { env });
}

async function cliJson<T>(...argv: string[]): Promise<T> {
  const r = await cli(...argv, '-o', 'json');
  // Real Connect rebalances after config changes: reads then answer 500 "rebalance is expected" and the
  // CLI retries, saying so on stderr. Nothing else may appear there.
  expect(r.stderr.split('\n').filter((l) => l !== '' && !RETRY_NOTICE.test(l))).toEqual([]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** Connect applies state changes asynchronously: poll the status until it matches. */
async function waitForStatus(
  name: string,
  accept: (s: ConnectorStateInfo) => boolean,
  what: string,
): Promise<ConnectorStateInfo> {
  const deadline = Date.now() + 30_000;
  let last: ConnectorStateInfo | undefined;
  while (Date.now() < deadline) {
    last = await api.getConnectorStatus(name).catch(() => undefined);
    if (last && accept(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`connector ${name} did not become ${what} within 30 s; last status: ${JSON.stringify(last)}`);
}

async function eventually(check: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function writeConnector(file: string, name: string, config: Record<string, unknown>): Promise<string> {
  const path = join(dir, file);
  await writeFile(path, JSON.stringify({ name, config }, null, 2));
  return path;
}

beforeAll(async () => {
  const info = await api.serverInfo().catch((error: unknown) => {
    throw new Error(`Kafka Connect at CONNECT_URL=${CONNECT_URL} does not answer: ${(error as Error).message}`);
  });
  expect(info.version).toMatch(/^\d+\.\d+\.\d+/); // kcctl and other tools parse it
  dir = await mkdtemp(join(tmpdir(), 'erpstream-cli-it-'));
  env = { ERPSTREAM_CONNECT_URL: CONNECT_URL, ERPSTREAM_CONFIG: join(dir, 'config.yaml') };
  await writeFile(join(dir, 'in.txt'), 'line one\nline two\nline three\n');
});

afterAll(async () => {
  for (const name of created) await api.deleteConnector(name).catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

describe('plugins', () => {
  it('lists the installed connector plugins and describes their keys', async () => {
    const plugins = await cliJson<Array<{ class: string; type: string }>>('plugins', 'list');
    expect(plugins).toContainEqual(expect.objectContaining({ class: FILE_SOURCE, type: 'source' }));
    const keys = await cliJson<Array<{ name: string }>>('plugins', 'describe', FILE_SOURCE);
    expect(keys.map((k) => k.name)).toEqual(expect.arrayContaining(['file', 'topic', 'batch.size']));
  });

  it('validates a file with the cluster: exit 0 when valid, exit 2 naming the key when not', async () => {
    const good = await writeConnector('valid.json', `it-valid-${suffix}`, {
      'connector.class': FILE_SOURCE,
      topic: 't',
      file: '/tmp/x',
    });
    const ok = await cli('plugins', 'validate', '-f', good);
    expect(ok).toMatchObject({ code: 0, stdout: `connector "it-valid-${suffix}" is valid (${good})\n` });
    const bad = await writeConnector('invalid.json', `it-invalid-${suffix}`, {
      'connector.class': FILE_SOURCE,
      file: '/tmp/x',
      'batch.size': 'many',
    });
    const r = await cli('plugins', 'validate', '-f', bad);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`connector "it-invalid-${suffix}" is invalid (${bad}):`);
    expect(r.stdout).toMatch(/! topic: Missing required configuration "topic" which has no default value/);
    expect(r.stdout).toMatch(/! batch\.size: Invalid value many for configuration batch\.size/);
  });
});

describe('connector lifecycle', () => {
  const name = `it-file-${suffix}`;
  let file: string;

  beforeAll(async () => {
    created.add(name);
    file = await writeConnector('source.json', name, {
      'connector.class': FILE_SOURCE,
      file: join(dir, 'in.txt'),
      topic: `it-cli-${suffix}`,
      'tasks.max': 1,
      'db.password': 'never-print-me',
    });
  });

  it('apply --dry-run shows the whole config as added and creates nothing', async () => {
    const r = await cli('connectors', 'apply', '-f', file, '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`connector "${name}" will be created (${file})`);
    expect(r.stdout).toContain(`  + topic: it-cli-${suffix}\n`);
    expect(r.stdout).toContain('  + db.password: [hidden]\n');
    expect(r.stdout).toContain('dry run: 1 connector(s) would change; nothing was written');
    expect(await api.findConnectorConfig(name)).toBeUndefined();
  });

  it('apply creates the connector, and applying again changes nothing', async () => {
    const first = await cliJson<Array<{ action: string; written: boolean }>>('connectors', 'apply', '-f', file);
    expect(first).toEqual([expect.objectContaining({ name, action: 'create', written: true })]);
    expect(await api.getConnectorConfig(name)).toMatchObject({ name, topic: `it-cli-${suffix}`, 'tasks.max': '1' });
    const again = await cli('connectors', 'apply', '-f', file);
    expect(again).toMatchObject({
      code: 0,
      stdout: HIDES_UNDECLARED_SECRETS
        ? `connector "${name}" will be updated: 0 added, 1 changed, 0 removed (${file})\n` +
          `  ~ db.password: [hidden] → [hidden]\n` +
          // Written again, so validated again: the file's deliberate undeclared key gets its warning.
          `  ? warning: unknown key "db.password": not a configuration of FileStreamSourceConnector or of the framework, so it is ignored\n` +
          `connector "${name}" updated\n`
        : `connector "${name}" unchanged (${file})\n`,
    });
  });

  it('apply shows added, changed and removed keys, then updates; secrets never printed', async () => {
    const config = JSON.parse(await readFile(file, 'utf8')) as { config: Record<string, unknown> };
    config.config['batch.size'] = 100; // added
    config.config['db.password'] = 'still-secret'; // changed
    delete config.config['tasks.max']; // removed
    const changed = join(dir, 'source-v2.yaml');
    await writeFile(changed, JSON.stringify({ name, config: config.config }));
    const plan = await cli('connectors', 'apply', '-f', changed, '--dry-run');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`connector "${name}" will be updated: 1 added, 1 changed, 1 removed`);
    expect(plan.stdout).toContain('  + batch.size: 100\n  ~ db.password: [hidden] → [hidden]\n');
    expect(plan.stdout).toContain('  - tasks.max: 1\n');
    const applied = await cli('connectors', 'apply', '-f', changed);
    expect(applied.stdout).toContain(`connector "${name}" updated`);
    for (const r of [plan, applied]) expect(r.stdout + r.stderr).not.toMatch(/never-print-me|still-secret/);
    expect(await api.getConnectorConfig(name)).toMatchObject({
      'batch.size': '100',
      'db.password': HIDES_UNDECLARED_SECRETS ? '[hidden]' : 'still-secret',
    });
    expect((await api.getConnectorConfig(name))['tasks.max']).toBeUndefined();
  });

  it('get hides secrets unless asked; patch merges keys', async () => {
    const info = await cliJson<{ config: Record<string, string> }>('connectors', 'get', name);
    expect(info.config['db.password']).toBe('[hidden]');
    const patched = await cli('connectors', 'patch', name, '--set', 'batch.size=200', '--unset', 'db.password');
    expect(patched.code).toBe(0);
    expect(patched.stdout).toContain('  ~ batch.size: 100 → 200\n  - db.password: [hidden]\n');
    const config = await api.getConnectorConfig(name);
    expect(config['batch.size']).toBe('200');
    expect(config['db.password']).toBeUndefined();
  });

  it('status and list show the running connector and its task', async () => {
    await waitForStatus(
      name,
      (s) => s.connector.state === 'RUNNING' && s.tasks.length === 1 && s.tasks[0]!.state === 'RUNNING',
      'RUNNING with 1 task',
    );
    const status = await cli('connectors', 'status', name);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(`^INSTANCE +STATE +WORKER +TRACE\\nconnector ${name} +RUNNING +\\S+\\ntask 0 +RUNNING +\\S+\\n$`),
    );
    const list = await cliJson<Array<{ name: string; state: string; type: string; class: string }>>(
      'connectors',
      'list',
    );
    expect(list).toContainEqual(
      expect.objectContaining({ name, state: 'RUNNING', type: 'source', class: FILE_SOURCE }),
    );
    const table = await cli('connectors', 'list', '--state', 'running');
    expect(table.stdout).toMatch(
      new RegExp(`\\n${name} +source +RUNNING +1/1 running +${FILE_SOURCE.replace(/\./g, '\\.')}\\n`),
    );
    const describe = await cli('connectors', 'describe', name);
    expect(describe.stdout).toContain(`Name:   ${name}\nType:   source\nClass:  ${FILE_SOURCE}\nState:  RUNNING\n`);
  });

  it('pause, resume and restart (connector, tasks, one task)', async () => {
    expect(await cli('connectors', 'pause', name)).toMatchObject({ code: 0, stdout: `connector "${name}" paused\n` });
    await waitForStatus(name, (s) => s.connector.state === 'PAUSED', 'PAUSED');
    expect(await cli('connectors', 'resume', name)).toMatchObject({ code: 0, stdout: `connector "${name}" resumed\n` });
    await waitForStatus(name, (s) => s.connector.state === 'RUNNING' && s.tasks[0]?.state === 'RUNNING', 'RUNNING');
    const restart = await cli('connectors', 'restart', name, '--include-tasks');
    expect(restart.code).toBe(0);
    expect(restart.stdout).toContain(`connector "${name}" restarted\n`);
    expect(restart.stdout).toMatch(/task 0 +RESTARTING/);
    await waitForStatus(name, (s) => s.tasks[0]?.state === 'RUNNING', 'RUNNING after restart');
    expect(await cli('tasks', 'restart', name, '0')).toMatchObject({
      code: 0,
      stdout: `task 0 of connector "${name}" restarted\n`,
    });
    const missing = await cli('tasks', 'restart', name, '7');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`Unknown task: ${name}-7`);
  });

  it('offsets: changing them needs STOPPED; get, set and reset on a stopped connector', async () => {
    const running = await cli('offsets', 'reset', name);
    expect(running.code).toBe(2);
    expect(running.stderr).toContain('Connectors must be in the STOPPED state before their offsets can be modified');
    expect(running.stderr).toContain('hint: Stop the connector first (`erpstream connectors stop <name>`)');

    expect(await cli('connectors', 'stop', name)).toMatchObject({ code: 0, stdout: `connector "${name}" stopped\n` });
    await waitForStatus(name, (s) => s.connector.state === 'STOPPED' && s.tasks.length === 0, 'STOPPED');
    const partition = { filename: join(dir, 'in.txt') };
    const offsets = await cliJson<{ offsets: Array<{ partition: unknown; offset: unknown }> }>('offsets', 'get', name);
    expect(offsets.offsets).toEqual([{ partition, offset: { position: 29 } }]); // all three lines read

    const set = await cli(
      'offsets',
      'set',
      name,
      '--partition',
      JSON.stringify(partition),
      '--offset',
      '{"position": 9}',
    );
    expect(set).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/offsets for this connector have been altered successfully/),
    });
    await eventually(async () =>
      expect((await api.getOffsets(name)).offsets).toEqual([{ partition, offset: { position: 9 } }]),
    );

    const reset = await cli('offsets', 'reset', name);
    expect(reset).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/offsets for this connector have been reset successfully/),
    });
    // Connect reads the offsets topic back asynchronously: the reset shows up a moment later.
    await eventually(async () =>
      expect(JSON.parse((await cli('offsets', 'get', name, '-o', 'json')).stdout)).toEqual({ offsets: [] }),
    );
  });

  it('create refuses an existing connector (exit 1, not retried); delete removes it; then 404 is exit 1', async () => {
    const exists = await cli('connectors', 'create', '-f', file);
    expect(exists.stdout).toBe('');
    expect(exists.code).toBe(1);
    expect(exists.stderr).toContain(`Connector ${name} already exists`);
    expect(exists.stderr).not.toContain('retrying');
    expect(await cli('connectors', 'delete', name)).toMatchObject({ code: 0, stdout: `connector "${name}" deleted\n` });
    created.delete(name);
    // The config is gone at once; the status topic catches up later, so ask for the connector itself.
    const gone = await cli('connectors', 'get', name);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`answered 404 to GET /connectors/${name}: Connector ${name} not found`);
  });
});

describe('apply of a directory, and create', () => {
  it('applies every file in a directory, then create --initial-state STOPPED', async () => {
    const sub = join(dir, 'many');
    await rm(sub, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(sub));
    const names = [`it-dir-a-${suffix}`, `it-dir-b-${suffix}`];
    for (const n of names) created.add(n);
    await writeFile(
      join(sub, 'a.yaml'),
      `name: ${names[0]}\nconnector.class: ${FILE_SOURCE}\ntopic: it-dir-${suffix}\nfile: /dev/null\n`,
    );
    await writeFile(
      join(sub, 'b.json'),
      JSON.stringify({
        name: names[1],
        config: { 'connector.class': FILE_SOURCE, topic: `it-dir-${suffix}`, file: '/dev/null' },
      }),
    );
    const r = await cliJson<Array<{ name: string; action: string }>>('connectors', 'apply', '-f', sub);
    expect(r.map((x) => [x.name, x.action])).toEqual([
      [names[0], 'create'],
      [names[1], 'create'],
    ]);
    const again = await cliJson<Array<{ action: string }>>('connectors', 'apply', '-f', sub);
    expect(again.map((x) => x.action)).toEqual(['unchanged', 'unchanged']);

    const stoppedName = `it-stopped-${suffix}`;
    created.add(stoppedName);
    const created1 = await cli('connectors', 'create', '-f', '-', '--initial-state', 'stopped');
    expect(created1.code).toBe(2); // stdin is empty in this run
    const file = join(dir, 'stopped.json');
    await writeFile(
      file,
      JSON.stringify({ name: stoppedName, config: { 'connector.class': FILE_SOURCE, topic: 't', file: '/dev/null' } }),
    );
    expect(await cli('connectors', 'create', '-f', file, '--initial-state', 'stopped')).toMatchObject({ code: 0 });
    await waitForStatus(stoppedName, (s) => s.connector.state === 'STOPPED', 'STOPPED');
    expect(await cli('connectors', 'delete', ...names, stoppedName)).toMatchObject({ code: 0 });
    for (const n of [...names, stoppedName]) created.delete(n);
  });
});

describe('loggers', () => {
  it('reads levels and sets one on the worker', async () => {
    const loggers = await cliJson<Record<string, { level: string }>>('loggers', 'get');
    expect(loggers.root).toBeDefined();
    const logger = 'org.apache.kafka.connect.file';
    const set = await cli('loggers', 'set', logger, 'debug');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain(`logger "${logger}" set to DEBUG; loggers changed: ${logger}`);
    expect((await cliJson<Record<string, { level: string }>>('loggers', 'get', logger))[logger]!.level).toBe('DEBUG');
    await cli('loggers', 'set', logger, 'INFO');
    const bad = await cli('loggers', 'set', logger, 'LOUD');
    expect(bad.code).toBe(2);
  });
});

describe('errors', () => {
  it("exits 1 with Connect's message for an unknown connector", async () => {
    const r = await cli('connectors', 'get', `it-missing-${suffix}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Connector it-missing-${suffix} not found`);
    expect(r.stderr).toContain('hint: `erpstream connectors list` shows the connectors that exist.');
  });

  it('exits 3 when the cluster cannot be reached', async () => {
    const port = await closedPort();
    const r = await runConnectCli(['connectors', 'list'], {
      env: { ...env, ERPSTREAM_CONNECT_URL: `http://127.0.0.1:${port}` },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`Cannot reach Kafka Connect at http://127.0.0.1:${port}`);
  });

  it('exits 2 naming the file and field for a bad connector file, before any request', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ name: `it-bad-${suffix}`, config: { topic: 't' } }));
    const r = await cli('connectors', 'apply', '-f', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `Connector file ${bad}: "config.connector.class" is missing for connector "it-bad-${suffix}".`,
    );
    expect(await api.findConnectorConfig(`it-bad-${suffix}`)).toBeUndefined();
  });
});

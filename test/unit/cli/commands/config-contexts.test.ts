import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeConnect, startFakeConnect } from '../connect/fake-connect.js';
import { runConnectCli } from '../connect/run-connect-cli.js';

let env: NodeJS.ProcessEnv;
let fake: FakeConnect | undefined;
beforeEach(async () => {
  env = { ERPSTREAM_CONFIG: join(await mkdtemp(join(tmpdir(), 'erpstream-config-')), 'erpstream', 'config.yaml') };
});
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const cli = (...argv: string[]) => runConnectCli(argv, { env });

describe('erpstream config', () => {
  it('creates contexts, switches between them and lists them without credentials', async () => {
    expect(
      await cli(
        'config',
        'set-context',
        'prod',
        '--connect-url',
        'https://connect.prod:8083/',
        '--username',
        'ops',
        '--password',
        'hunter2',
      ),
    ).toMatchObject({
      code: 0,
      stdout: `context "prod" created in ${env.ERPSTREAM_CONFIG} (current)\n`,
    });
    await cli('config', 'set-context', 'dev', '--connect-url', 'http://127.0.0.1:8083', '--token', '${env:DEV_TOKEN}');
    expect((await cli('config', 'current-context')).stdout).toBe('prod\n');
    expect(await cli('config', 'use-context', 'dev')).toMatchObject({ code: 0, stdout: 'switched to context "dev"\n' });
    const list = await cli('config', 'get-contexts');
    expect(list.stdout).toBe(
      'CURRENT  NAME  CONNECT_URL                AUTH\n' +
        '*        dev   http://127.0.0.1:8083      bearer\n' +
        '         prod  https://connect.prod:8083  basic (ops)\n',
    );
    const json = await cli('config', 'get-contexts', '-o', 'json');
    expect(json.stdout).not.toContain('hunter2');
    expect(JSON.parse(json.stdout)).toContainEqual(
      expect.objectContaining({ name: 'dev', token: '${env:DEV_TOKEN}', current: true }),
    );
    expect((await stat(env.ERPSTREAM_CONFIG!)).mode & 0o777).toBe(0o600);
    expect(await readFile(env.ERPSTREAM_CONFIG!, 'utf8')).toContain('current-context: dev');
  });

  it('updates only the options given, and deletes', async () => {
    await cli('config', 'set-context', 'a', '--connect-url', 'http://a:8083', '--username', 'u');
    expect((await cli('config', 'set-context', 'a', '--timeout', '5000')).stdout).toBe(
      `context "a" updated in ${env.ERPSTREAM_CONFIG} (current)\n`,
    );
    const [a] = JSON.parse((await cli('config', 'get-contexts', '-o', 'json')).stdout) as Array<
      Record<string, unknown>
    >;
    expect(a).toMatchObject({ name: 'a', 'connect-url': 'http://a:8083', username: 'u', 'timeout-ms': 5000 });
    expect(await cli('config', 'delete-context', 'a')).toMatchObject({ code: 0 });
    expect((await cli('config', 'current-context')).code).toBe(1);
  });

  it('refuses what would go wrong later (exit 2)', async () => {
    expect((await cli('config', 'set-context', 'x')).stderr).toContain(
      'Context "x" does not exist yet and no --connect-url was given.',
    );
    const creds = await cli('config', 'set-context', 'x', '--connect-url', 'http://u:p@h:8083');
    expect(creds.code).toBe(2);
    expect(creds.stderr).not.toContain(':p@');
    expect((await cli('config', 'use-context', 'nope')).code).toBe(2);
  });

  it('commands use the current context with its credentials', async () => {
    fake = await startFakeConnect({
      'GET /connectors?expand=status&expand=info': { status: 200, body: {} },
      'GET /connectors': { status: 200, body: [] },
    });
    await cli(
      'config',
      'set-context',
      'local',
      '--connect-url',
      fake.url,
      '--username',
      'ops',
      '--password',
      '${env:PW}',
    );
    const r = await runConnectCli(['connectors', 'list'], { env: { ...env, PW: 's3cret' } });
    expect(r).toMatchObject({ code: 0, stdout: 'NAME  TYPE  STATE  TASKS  CLASS\n' });
    for (const req of fake.requests) {
      expect(req.headers.authorization).toBe(`Basic ${Buffer.from('ops:s3cret').toString('base64')}`);
    }
  });
});

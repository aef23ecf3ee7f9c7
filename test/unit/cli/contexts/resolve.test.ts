import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONNECT_URL, resolveConnectTarget } from '../../../../cli/contexts/resolve.js';
import { contextsPath, readContexts, writeContexts } from '../../../../cli/contexts/store.js';
import { classifyError } from '../../../../cli/errors.js';

let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'erpstream-contexts-'));
  env = { ERPSTREAM_CONFIG: join(dir, 'config.yaml') };
  await writeContexts(env, {
    'current-context': 'prod',
    contexts: {
      prod: {
        'connect-url': 'https://connect.prod:8083',
        username: 'ops',
        password: '${env:PROD_PW}',
        'timeout-ms': 5000,
      },
      dev: { 'connect-url': 'http://127.0.0.1:18083', token: 'dev-token' },
    },
  });
});

describe('resolveConnectTarget', () => {
  it('uses the current context, with its credentials resolved from the environment', async () => {
    const target = await resolveConnectTarget({}, { ...env, PROD_PW: 'pw' });
    expect(target).toEqual({
      url: 'https://connect.prod:8083',
      source: 'context "prod"',
      auth: { kind: 'basic', username: 'ops', password: 'pw' },
      timeoutMs: 5000,
    });
  });

  it("prefers --connect-url, then ERPSTREAM_CONNECT_URL, then --context, and never sends a context's credentials elsewhere", async () => {
    const flag = await resolveConnectTarget(
      { connectUrl: 'http://a:1', context: 'dev' },
      { ...env, ERPSTREAM_CONNECT_URL: 'http://b:2' },
    );
    expect(flag).toMatchObject({ url: 'http://a:1', source: '--connect-url', auth: undefined, timeoutMs: 60_000 });
    const fromEnv = await resolveConnectTarget({}, { ...env, ERPSTREAM_CONNECT_URL: 'http://b:2' });
    expect(fromEnv).toMatchObject({ url: 'http://b:2', source: 'ERPSTREAM_CONNECT_URL', auth: undefined });
    const dev = await resolveConnectTarget({ context: 'dev' }, env);
    expect(dev).toMatchObject({ url: 'http://127.0.0.1:18083', auth: { kind: 'bearer', token: 'dev-token' } });
    const envContext = await resolveConnectTarget({}, { ...env, ERPSTREAM_CONTEXT: 'dev' });
    expect(envContext.url).toBe('http://127.0.0.1:18083');
  });

  it('takes credentials from ERPSTREAM_CONNECT_TOKEN / _USERNAME / _PASSWORD for any URL', async () => {
    const basic = await resolveConnectTarget(
      { connectUrl: 'http://a:1' },
      { ERPSTREAM_CONNECT_USERNAME: 'u', ERPSTREAM_CONNECT_PASSWORD: 'p' },
    );
    expect(basic.auth).toEqual({ kind: 'basic', username: 'u', password: 'p' });
    const bearer = await resolveConnectTarget({ connectUrl: 'http://a:1' }, { ERPSTREAM_CONNECT_TOKEN: 't' });
    expect(bearer.auth).toEqual({ kind: 'bearer', token: 't' });
  });

  it('falls back to the local default when there is no config file', async () => {
    const target = await resolveConnectTarget(
      {},
      { ERPSTREAM_CONFIG: join(tmpdir(), 'erpstream-none', 'config.yaml') },
    );
    expect(target).toMatchObject({ url: DEFAULT_CONNECT_URL, source: 'default' });
  });

  it('fails with exit 2 naming what is wrong: unknown context, unset variable, bad timeout', async () => {
    const fail = async (p: Promise<unknown>) => classifyError(await p.catch((e: unknown) => e));
    const unknown = await fail(resolveConnectTarget({ context: 'staging' }, env));
    expect(unknown.exitCode).toBe(2);
    expect(unknown.message).toBe(`No context named "staging" in ${contextsPath(env)} (known: prod, dev).`);
    const unset = await fail(resolveConnectTarget({}, env));
    expect(unset.message).toBe('The context "prod" password refers to ${env:PROD_PW}, but PROD_PW is not set.');
    const timeout = await fail(resolveConnectTarget({ connectUrl: 'http://a:1', timeout: '-5' }, env));
    expect(timeout.message).toMatch(/Invalid timeout "-5"/);
  });
});

describe('contexts store', () => {
  it('writes the file readable by its owner only and keeps keys it does not know', async () => {
    const file = await readContexts(env);
    file.contexts.prod!['kafka-brokers'] = '127.0.0.1:9092';
    await writeContexts(env, file);
    expect((await stat(contextsPath(env))).mode & 0o777).toBe(0o600);
    expect((await readContexts(env)).contexts.prod!['kafka-brokers']).toBe('127.0.0.1:9092');
  });

  it('names the file and line of a broken config (exit 2)', async () => {
    await writeFile(contextsPath(env), 'contexts:\n  prod: [\n');
    const error = classifyError(await readContexts(env).catch((e: unknown) => e));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(new RegExp(`${contextsPath(env)} \\(line \\d+, column \\d+\\): is not valid YAML`));
  });
});

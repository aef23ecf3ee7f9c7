import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ConfigProvider,
  ConfigTransformer,
  DirectoryConfigProvider,
  EnvVarConfigProvider,
  FileConfigProvider,
  configProvidersFromWorkerConfig,
  defaultConfigProviders,
  reverseTransform,
} from '../../../../runtime/config-providers/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-providers-'));
  await writeFile(path.join(dir, 'db.properties'), 'user=erp\npassword = p@ss:word\n# comment\n');
  await mkdir(path.join(dir, 'secrets'));
  await writeFile(path.join(dir, 'secrets', 'token'), 'tok-123');
});

describe('ConfigTransformer with the built-in providers', () => {
  it('resolves env, file and directory placeholders, also inside longer values', async () => {
    const providers = defaultConfigProviders();
    const env = new EnvVarConfigProvider({ ERP_HOST: 'db.local' });
    providers.set('env', env);
    const t = new ConfigTransformer(providers);
    const { data, unresolved } = await t.transform({
      url: 'jdbc://${env:ERP_HOST}:5432/erp',
      user: `\${file:${dir}/db.properties:user}`,
      password: `\${file:${dir}/db.properties:password}`,
      token: `\${directory:${dir}/secrets:token}`,
      plain: 'no placeholder',
    });
    expect(data).toEqual({
      url: 'jdbc://db.local:5432/erp',
      user: 'erp',
      password: 'p@ss:word',
      token: 'tok-123',
      plain: 'no placeholder',
    });
    expect(unresolved).toEqual([]);
  });

  it('leaves unknown providers and missing keys as they are, and says which', async () => {
    const t = new ConfigTransformer(new Map([['env', new EnvVarConfigProvider({})]]));
    const { data, unresolved } = await t.transform({ a: '${vault:secret/x:y}', b: '${env:MISSING}' });
    expect(data).toEqual({ a: '${vault:secret/x:y}', b: '${env:MISSING}' });
    expect(unresolved).toEqual(['a=${vault:secret/x:y}', 'b=${env:MISSING}']);
  });

  it('says why each placeholder did not resolve, naming it and never a value', async () => {
    const env = new EnvVarConfigProvider({ ERP_DB_PASSWORD: 's3cret-value' });
    env.configure({ 'allowlist.pattern': 'ERP_.*' });
    const providers = new Map<string, ConfigProvider>([
      ['env', env],
      ['file', new FileConfigProvider()],
      ['directory', new DirectoryConfigProvider()],
    ]);
    const t = new ConfigTransformer(providers);
    const { data, problems } = await t.transform({
      'connection.url': '${env:ERP_DB_URL}',
      'connection.password': '${env:ERP_DB_PASSWORD}',
      home: '${env:HOME}',
      user: `\${file:${dir}/db.properties:usr}`,
      gone: `\${file:${dir}/absent.properties:x}`,
      token: `\${directory:${dir}/secrets:tokn}`,
      vault: '${vault:secret/x:y}',
    });
    expect(data['connection.password']).toBe('s3cret-value');
    expect(problems.map((p) => [p.key, p.message])).toEqual([
      ['connection.url', "`${env:ERP_DB_URL}` is not set in the worker's environment"],
      ['home', "`${env:HOME}` is not allowed by the env provider's allowlist.pattern (ERP_.*)"],
      ['user', `\`\${file:${dir}/db.properties:usr}\` names a key "usr" that ${dir}/db.properties does not have`],
      [
        'gone',
        expect.stringMatching(
          /^`\$\{file:.*absent\.properties:x\}` could not be resolved: Could not read .*absent\.properties/,
        ),
      ],
      [
        'token',
        `\`\${directory:${dir}/secrets:tokn}\` names a file "tokn" that directory ${dir}/secrets does not have`,
      ],
      [
        'vault',
        '`${vault:secret/x:y}` names config provider "vault", which the worker does not have (config.providers: env, file, directory)',
      ],
    ]);
    expect(JSON.stringify(problems)).not.toContain('s3cret-value');
  });

  it('a file provider error names the file', async () => {
    const p = new FileConfigProvider();
    p.configure({});
    await expect(p.get(path.join(dir, 'absent.properties'), ['x'])).rejects.toThrow(/absent\.properties/);
  });
});

describe('allowed.paths and allowlist.pattern', () => {
  it('file and directory providers refuse paths outside allowed.paths, including via symlinks', async () => {
    const f = new FileConfigProvider();
    f.configure({ 'allowed.paths': path.join(dir, 'secrets') });
    await expect(f.get(path.join(dir, 'db.properties'), ['user'])).rejects.toThrow(/not allowed/);
    await symlink(path.join(dir, 'db.properties'), path.join(dir, 'secrets', 'link.properties'));
    await expect(f.get(path.join(dir, 'secrets', 'link.properties'), ['user'])).rejects.toThrow(/not allowed/);
    const d = new DirectoryConfigProvider();
    d.configure({ 'allowed.paths': path.join(dir, 'secrets') });
    expect(await d.get(path.join(dir, 'secrets'), ['token', '../db.properties'])).toEqual({ token: 'tok-123' });
  });

  it('env provider honours allowlist.pattern', async () => {
    const e = new EnvVarConfigProvider({ ERP_A: '1', OTHER: '2' });
    e.configure({ 'allowlist.pattern': 'ERP_.*' });
    expect(await e.get('', ['ERP_A', 'OTHER'])).toEqual({ ERP_A: '1' });
  });
});

describe('worker config.providers', () => {
  it('builds only the configured providers, with params', async () => {
    const providers = configProvidersFromWorkerConfig({
      'config.providers': 'secrets',
      'config.providers.secrets.class': 'org.apache.kafka.common.config.provider.DirectoryConfigProvider',
      'config.providers.secrets.param.allowed.paths': dir,
    });
    expect([...providers.keys()]).toEqual(['secrets']);
    const { data } = await new ConfigTransformer(providers).transform({ t: `\${secrets:${dir}/secrets:token}` });
    expect(data.t).toBe('tok-123');
  });
  it('rejects an unknown class with the key name', () => {
    expect(() =>
      configProvidersFromWorkerConfig({ 'config.providers': 'x', 'config.providers.x.class': 'com.example.Vault' }),
    ).toThrow(/config\.providers\.x\.class/);
  });
});

describe('reverseTransform', () => {
  it('puts placeholders back into task configs for values that came from them', () => {
    const raw = { password: '${env:PW}', host: 'h' };
    const resolved = { password: 'secret', host: 'h' };
    expect(reverseTransform(raw, resolved, { password: 'secret', host: 'h', extra: 'secret' })).toEqual({
      password: '${env:PW}',
      host: 'h',
      extra: 'secret',
    });
  });
});

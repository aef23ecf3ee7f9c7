import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../../bundle/builtin.js';
import { ConfigError } from '../../../../runtime/api/index.js';
import { loadPluginPath } from '../../../../runtime/plugins/plugin-path.js';
import { TransformChain } from '../../../../runtime/transforms/index.js';
import { sourceRecord } from '../transforms/test-plugins.js';
import { startHarness } from '../worker/harness.js';

const API = pathToFileURL(path.resolve(import.meta.dirname, '../../../../runtime/api/index.ts')).href;

/** A third-party package: plain ESM, one transformation that appends a suffix to the topic. */
function pluginModule(className: string, exportStyle: 'default-function' | 'default-object' | 'named'): string {
  const body = `
import { ConfigDef } from '${API}';
const plugin = {
  type: 'transformation',
  className: '${className}',
  aliases: [],
  version: '1.2.3',
  summary: 'Appends a suffix to the topic.',
  config: new ConfigDef().define({ name: 'suffix', type: 'STRING', defaultValue: '-x', importance: 'LOW', documentation: 'The suffix.' }),
  create() {
    let suffix = '';
    return {
      configure(props) { suffix = String(props.suffix ?? '-x'); },
      apply(r) { return { ...r, topic: r.topic + suffix }; },
      close() {},
    };
  },
};
`;
  if (exportStyle === 'default-function') return `${body}export default function register(r) { r.register(plugin); }\n`;
  if (exportStyle === 'default-object') return `${body}export default { register(r) { r.register(plugin); } };\n`;
  return `${body}export function register(r) { r.register(plugin); }\n`;
}

async function writePackage(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
}

const pkgJson = (name: string, entry: string | null) =>
  JSON.stringify({ name, version: '1.2.3', type: 'module', ...(entry ? { erpstream: { plugins: entry } } : {}) });

describe('plugin.path: third-party plugin packages', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'erpstream-plugin-path-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each(['default-function', 'default-object', 'named'] as const)(
    'a package (%s export) adds its transform beside the built-ins, usable in a chain',
    async (style) => {
      const cls = `acme.transforms.Suffix${style.replace(/-/g, '')}`;
      await writePackage(path.join(root, 'acme-suffix'), {
        'package.json': pkgJson('acme-suffix', './index.js'),
        'index.js': pluginModule(cls, style),
      });
      // Not plugin packages: skipped, not failed.
      await writePackage(path.join(root, 'notes'), { 'package.json': pkgJson('notes', null) });
      await mkdir(path.join(root, 'empty'));
      const registry = builtinRegistry();
      const loaded = await loadPluginPath(registry, [root]);
      expect(loaded.map((p) => [p.name, p.plugins])).toEqual([['acme-suffix', [cls]]]);
      expect(registry.find('transformation', 'org.apache.kafka.connect.transforms.Cast$Value')).toBeDefined();
      const chain = await TransformChain.build(
        { transforms: 's', 'transforms.s.type': cls, 'transforms.s.suffix': '-eu' },
        { registry },
      );
      expect(chain.apply(sourceRecord('orders', 1))?.topic).toBe('orders-eu');
    },
  );

  it('a directory that is itself a plugin package is loaded as one', async () => {
    await writePackage(root, {
      'package.json': pkgJson('solo', 'index.js'),
      'index.js': pluginModule('acme.Solo', 'named'),
    });
    const registry = builtinRegistry();
    await loadPluginPath(registry, [root]);
    expect(registry.find('transformation', 'acme.Solo')?.version).toBe('1.2.3');
  });

  async function failure(dirs: string[]): Promise<ConfigError> {
    const error = await loadPluginPath(builtinRegistry(), dirs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('plugin.path');
    return error as ConfigError;
  }

  it('a package claiming a built-in name is refused, naming the package (never replaces the installed plugin)', async () => {
    await writePackage(path.join(root, 'evil'), {
      'package.json': pkgJson('evil', 'index.js'),
      'index.js': pluginModule('org.apache.kafka.connect.transforms.Cast$Value', 'named'),
    });
    expect((await failure([root])).message).toMatch(/evil.*claimed by both/);
  });

  it('a missing entry, an entry without register, or a missing directory stop the start with the reason', async () => {
    await writePackage(path.join(root, 'a'), { 'package.json': pkgJson('a', 'dist/nope.js') });
    expect((await failure([root])).message).toMatch(/package a .*cannot load its entry/);
    await rm(path.join(root, 'a'), { recursive: true });
    await writePackage(path.join(root, 'b'), {
      'package.json': pkgJson('b', 'index.js'),
      'index.js': 'export const x = 1;\n',
    });
    expect((await failure([root])).message).toMatch(/package b .*exports no register function/);
    expect((await failure([path.join(root, 'missing')])).message).toMatch(/Not a directory/);
  });

  it('a symlinked package directory is loaded (a deployment links pkg -> pkg-1.2.3), not skipped silently', async () => {
    const real = await mkdtemp(path.join(os.tmpdir(), 'erpstream-plugin-real-'));
    try {
      await writePackage(path.join(real, 'acme-1.2.3'), {
        'package.json': pkgJson('acme-linked', 'index.js'),
        'index.js': pluginModule('acme.transforms.Linked', 'named'),
      });
      await symlink(path.join(real, 'acme-1.2.3'), path.join(root, 'acme'));
      const registry = builtinRegistry();
      const loaded = await loadPluginPath(registry, [root]);
      expect(loaded.map((p) => p.name)).toEqual(['acme-linked']);
      expect(registry.find('transformation', 'acme.transforms.Linked')).toBeDefined();
    } finally {
      await rm(real, { recursive: true, force: true });
    }
  });

  it('a package reached twice (a link beside its target, a directory listed twice) is loaded once', async () => {
    await writePackage(path.join(root, 'acme-1.2.3'), {
      'package.json': pkgJson('acme-twice', 'index.js'),
      'index.js': pluginModule('acme.transforms.Twice', 'named'),
    });
    await symlink(path.join(root, 'acme-1.2.3'), path.join(root, 'acme'));
    const registry = builtinRegistry();
    const loaded = await loadPluginPath(registry, [root, root, path.join(root, 'acme')]);
    expect(loaded.map((p) => p.name)).toEqual(['acme-twice']);
    expect(registry.list('transformation').filter((p) => p.className === 'acme.transforms.Twice')).toHaveLength(1);
  });

  it('a symlink loop or a dangling link in plugin.path is skipped, not a crash or a hang', async () => {
    await symlink(path.join(root, 'loop-b'), path.join(root, 'loop-a'));
    await symlink(path.join(root, 'loop-a'), path.join(root, 'loop-b'));
    await symlink(path.join(root, 'nowhere'), path.join(root, 'dangling'));
    await writePackage(path.join(root, 'ok'), {
      'package.json': pkgJson('ok', 'index.js'),
      'index.js': pluginModule('acme.transforms.BesideLoop', 'named'),
    });
    const loaded = await loadPluginPath(builtinRegistry(), [root]);
    expect(loaded.map((p) => p.name)).toEqual(['ok']);
  });

  it.each([
    ['null', 'throw null;'],
    ['a string', "throw 'boom';"],
    ['an object without message', 'throw { code: 42 };'],
  ])('a register function that throws %s stops the start with a ConfigError naming the package', async (_, body) => {
    await writePackage(path.join(root, 'thrower'), {
      'package.json': pkgJson('thrower', 'index.js'),
      'index.js': `export default function register() { ${body} }\n`,
    });
    expect((await failure([root])).message).toMatch(/package thrower .*register function failed/);
  });

  it('an entry whose module throws null while loading stops the start with a ConfigError naming the package', async () => {
    await writePackage(path.join(root, 'badmod'), {
      'package.json': pkgJson('badmod', 'index.js'),
      'index.js': 'throw null;\n',
    });
    expect((await failure([root])).message).toMatch(/package badmod .*cannot load its entry/);
  });

  it.each([
    ['source', 'erpstream.LookupSinkConnector'],
    ['sink', 'FileStreamSource'],
    ['sink', 'erpstream.ErpSource'],
  ])('a %s connector claiming a built-in connector name (%s) of the other kind is refused', async (type, name) => {
    await writePackage(path.join(root, 'shadow'), {
      'package.json': pkgJson('shadow', 'index.js'),
      'index.js': `
import { ConfigDef } from '${API}';
export default function register(r) {
  r.register({ type: '${type}', className: 'acme.Shadow', aliases: ['${name}'], version: '1.0.0', summary: 's',
    config: new ConfigDef(), create() { return {}; }, createTask() { return {}; } });
}
`,
    });
    expect((await failure([root])).message).toMatch(/shadow.*claimed by both/);
  });

  it('a worker started with plugin.path lists the package’s plugin in GET /connector-plugins', async () => {
    await writePackage(path.join(root, 'acme'), {
      'package.json': pkgJson('acme', 'index.js'),
      'index.js': pluginModule('acme.transforms.Listed', 'default-function'),
    });
    const h = await startHarness({ 'plugin.path': ` ${root} ` });
    try {
      const res = await h.req('GET', '/connector-plugins?connectorsOnly=false');
      expect(res.body.map((p: { class: string }) => p.class)).toContain('acme.transforms.Listed');
    } finally {
      await h.worker.stop();
    }
  });
});

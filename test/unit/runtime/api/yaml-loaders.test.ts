import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { YamlLoadError, loadYaml, loadYamlDocuments } from '../../../../runtime/api/yaml.js';
import { readConfigFile } from '../../../../runtime/worker/config.js';
import { readDataFile } from '../../../../transforms/erp/config-helpers.js';
import { loadConnectorDefinitions } from '../../../../cli/connect/connector-files.js';
import { loadConnectorConfig } from '../../../../cli/config-file.js';
import { loadDocument } from '../../../../integrations/documents.js';
import { readContexts } from '../../../../cli/contexts/store.js';

/**
 * Every YAML loader (issue 19, item 5): connector files, connector config files, integration files, the
 * contexts file, worker config files and transform data files. Each gets the same hostile inputs and must
 * name the file; each must stay linear (the `yaml` package's own duplicate check took minutes for 2 MB).
 */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-yaml-'));
});

type Loader = (file: string) => Promise<unknown>;
const LOADERS: Record<string, Loader> = {
  'connector files (connectors apply -f)': (f) => loadConnectorDefinitions([f], process.stdin),
  'connector config (-c)': (f) => loadConnectorConfig(f),
  'integration files': (f) => loadDocument(f, path.dirname(f)),
  contexts: (f) => readContexts({ ERPSTREAM_CONFIG: f }),
  'worker config': (f) => readConfigFile(f),
  'transform data files': async (f) => readDataFile('translate.codes.file', f),
};

async function write(name: string, content: string | Buffer): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

async function failure(load: Loader, file: string): Promise<string> {
  try {
    await load(file);
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

/** Six levels of nine aliases each: 9^6 = 531,441 nodes once expanded, from a few hundred bytes. */
const ALIAS_BOMB = [
  'a: &a ["x","x","x","x","x","x","x","x","x"]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  'f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
].join('\n');

describe.each(Object.entries(LOADERS))('%s', (label, load) => {
  const base = label.replace(/\W+/g, '-');
  it('loads a 2 MB file of distinct keys (quadratic before: minutes)', async () => {
    const keys = Array.from({ length: 90_000 }, (_, i) => `  k${i}.setting: v${i}`).join('\n');
    const file = await write(`${base}-big.yaml`, `name: big\nconfig:\n  connector.class: X\n${keys}\n`);
    // Shapes differ per loader (contexts want "contexts", integrations "kind"): what matters is that the
    // file was read to its end, so any error must come after parsing, not from YAML.
    const message = await failure(load, file);
    expect(message).not.toMatch(/YAML|alias|bytes/);
  });
  it('refuses a file over the size cap with a message naming the file and the knob', async () => {
    const file = await write(`${base}-huge.yaml`, `a: "${'x'.repeat(9 * 1024 * 1024)}"\n`);
    const message = await failure(load, file);
    expect(message).toContain(file.split(path.sep).pop());
    expect(message).toMatch(/more than the 8388608-byte limit.*ERPSTREAM_YAML_MAX_BYTES/);
  });
  it('refuses an alias bomb, naming the file', async () => {
    const file = await write(`${base}-bomb.yaml`, ALIAS_BOMB);
    const message = await failure(load, file);
    expect(message).toContain(`${base}-bomb.yaml`);
    expect(message).toMatch(/aliases expand too much/);
  });
  it('refuses an unresolved alias, naming the file', async () => {
    const file = await write(`${base}-alias.yaml`, 'a: *nowhere\n');
    const message = await failure(load, file);
    expect(message).toContain(`${base}-alias.yaml`);
    expect(message).toMatch(/Unresolved alias/);
  });
  it('refuses a duplicate key, naming the file and line', async () => {
    const file = await write(`${base}-dup.yaml`, 'a: 1\nb: 2\na: 3\n');
    const message = await failure(load, file);
    expect(message).toContain(`${base}-dup.yaml`);
    expect(message).toMatch(/line 3.*the key "a" appears twice/);
  });
});

describe('encoding', () => {
  it.each(['contexts', 'connector files (connectors apply -f)', 'integration files'])(
    '%s: invalid UTF-8 is an error naming the file (it was read as U+FFFD and exited 0)',
    async (label) => {
      const file = await write(
        `utf8-${label.replace(/\W+/g, '-')}.yaml`,
        Buffer.concat([
          Buffer.from('contexts:\n  a:\n    connect-url: "http://x'),
          Buffer.from([0xff, 0xfe]),
          Buffer.from('"\n'),
        ]),
      );
      const message = await failure(LOADERS[label]!, file);
      expect(message).toMatch(/is not valid UTF-8/);
    },
  );
});

describe('loadYaml', () => {
  it('keeps one document, empty text is null, several documents are an error', () => {
    expect(loadYaml('a: 1', 'f')).toEqual({ a: 1 });
    expect(loadYaml('', 'f')).toBeNull();
    expect(() => loadYaml('a: 1\n---\nb: 2\n', 'f.yaml')).toThrow('f.yaml: holds 2 YAML documents');
    expect(loadYamlDocuments('a: 1\n---\nb: 2\n', 'f').map((d) => d.value)).toEqual([{ a: 1 }, { b: 2 }]);
  });
  it('duplicate keys are found in nested mappings and across key spellings that collide in JS', () => {
    expect(() => loadYaml('x:\n  y: 1\n  "y": 2\n', 'n.yaml')).toThrow(YamlLoadError);
    expect(() => loadYaml('1: a\n"1": b\n', 'n.yaml')).toThrow(/appears twice/);
    expect(loadYaml('x: {a: 1}\ny: {a: 2}\n', 'n.yaml')).toEqual({ x: { a: 1 }, y: { a: 2 } });
  });
});

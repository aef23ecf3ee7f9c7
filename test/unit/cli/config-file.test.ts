import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConnectorConfig, parseProperties } from '../../../cli/config-file.js';
import { CliError } from '../../../cli/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'erpstream-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(name: string, text: string) {
  const path = join(dir, name);
  await writeFile(path, text);
  return loadConnectorConfig(path);
}

describe('loadConnectorConfig', () => {
  it('reads a flat JSON config and Connect’s {name, config} REST body', async () => {
    expect(await load('a.json', '{"name":"c1","transforms":"a"}')).toEqual({
      name: 'c1',
      config: { name: 'c1', transforms: 'a' },
    });
    expect(await load('b.json', '{"name":"c2","config":{"transforms":"a"}}')).toEqual({
      name: 'c2',
      config: { name: 'c2', transforms: 'a' },
    });
  });

  it('reads YAML and .properties', async () => {
    expect((await load('c.yaml', 'transforms: a\ntransforms.a.type: Filter\n')).config).toEqual({
      transforms: 'a',
      'transforms.a.type': 'Filter',
    });
    expect((await load('d.properties', '# c\nname=x\ntransforms.r.regex=erp\\\\.(.*)\n')).config).toEqual({
      name: 'x',
      'transforms.r.regex': 'erp\\.(.*)',
    });
  });

  it('names the file and the position of a syntax error', async () => {
    const e = await load('e.json', '{"name": }').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).exitCode).toBe(2);
    expect((e as CliError).message).toMatch(/e\.json is not valid JSON: .* at position 9 \(line 1, column 10\)/);
    const y = await load('f.yaml', 'a: [1,\n').catch((x: unknown) => x);
    expect((y as CliError).message).toMatch(/f\.yaml \(line \d+, column \d+\): is not valid YAML/);
  });

  it('rejects a list at the top level', async () => {
    const e = await load('g.json', '[1]').catch((x: unknown) => x);
    expect((e as CliError).message).toContain('must be an object of config keys, found a list');
  });
});

describe('parseProperties', () => {
  it('handles separators, continuations and escapes as Java does', () => {
    expect(parseProperties('a = 1\nb:2\nc 3\nd=x\\\n   y\n! comment\ne=\\u0041\\tB')).toEqual({
      a: '1',
      b: '2',
      c: '3',
      d: 'xy',
      e: 'A\tB',
    });
  });
});

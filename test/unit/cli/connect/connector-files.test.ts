import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConnectorDefinitions, parseConnectorText } from '../../../../cli/connect/connector-files.js';
import { classifyError } from '../../../../cli/errors.js';

const FILE_SOURCE = 'org.apache.kafka.connect.file.FileStreamSourceConnector';

function stdin(text = ''): PassThrough {
  const s = new PassThrough();
  s.end(text);
  return s;
}

async function failure(promise: Promise<unknown>): Promise<{ exitCode: number; message: string; hint: string }> {
  return classifyError(
    await promise.then(
      () => new Error('expected a failure'),
      (e: unknown) => e,
    ),
  );
}

describe('parseConnectorText', () => {
  it("reads Connect's REST body and the flat form alike, as string maps with the name included", () => {
    const wrapped = parseConnectorText(
      JSON.stringify({
        name: 'a',
        config: { 'connector.class': FILE_SOURCE, 'tasks.max': 2, 'errors.tolerance': 'all' },
      }),
      'a.json',
      '.json',
    );
    const flat = parseConnectorText(
      `name: a\nconnector.class: ${FILE_SOURCE}\ntasks.max: 2\nerrors.tolerance: all\n`,
      'a.yaml',
      '.yaml',
    );
    expect(wrapped).toEqual(flat.map((d) => ({ ...d, source: 'a.json' })));
    expect(wrapped[0]!.config).toEqual({
      'connector.class': FILE_SOURCE,
      'tasks.max': '2',
      'errors.tolerance': 'all',
      name: 'a',
    });
  });

  it('accepts what `connectors get -o json` prints (tasks and type are ignored)', () => {
    const [def] = parseConnectorText(
      JSON.stringify({
        name: 'a',
        config: { 'connector.class': FILE_SOURCE, name: 'a' },
        tasks: [{ connector: 'a', task: 0 }],
        type: 'source',
      }),
      'a.json',
      '.json',
    );
    expect(def!.config).toEqual({ 'connector.class': FILE_SOURCE, name: 'a' });
  });

  it('reads several YAML documents, JSON arrays and .properties files; YAML lists become Connect LISTs', () => {
    const yaml = parseConnectorText(
      `name: a\nconnector.class: X\ntransforms: [route, mask]\n---\nname: b\nconnector.class: Y\nbig: 9007199254740993\n`,
      'all.yaml',
      '.yaml',
    );
    expect(yaml.map((d) => [d.name, d.source])).toEqual([
      ['a', 'all.yaml#1'],
      ['b', 'all.yaml#2'],
    ]);
    expect(yaml[0]!.config.transforms).toBe('route,mask');
    expect(yaml[1]!.config.big).toBe('9007199254740993');
    const json = parseConnectorText(
      '[{"name":"a","connector.class":"X"},{"name":"b","config":{"connector.class":"Y"}}]',
      'l.json',
      '.json',
    );
    expect(json.map((d) => d.name)).toEqual(['a', 'b']);
    const props = parseConnectorText('name=p\nconnector.class=X\ntopic=orders\n', 'p.properties', '.properties');
    expect(props[0]!.config).toEqual({ name: 'p', 'connector.class': 'X', topic: 'orders' });
  });

  it('asks a .properties file without name (as a quick start may show it) for the name= line it lacks', () => {
    let error: unknown;
    try {
      parseConnectorText('connector.class=ErpSource\ntopic.prefix=erp\n', 'src.properties', '.properties');
    } catch (e) {
      error = e;
    }
    const classified = classifyError(error);
    expect(classified.exitCode).toBe(2);
    expect(classified.message).toMatch(/src\.properties: "name" is missing or empty/);
    expect(classified.hint).toContain('Add a line name=<connector name>');
  });

  it.each([
    ['{"config": {"connector.class": "X"}}', /c\.json: "name" is missing or empty/],
    ['{"name": 5, "config": {"connector.class": "X"}}', /c\.json: "name" must be a string, found number/],
    ['{"name": ["a"], "connector.class": "X"}', /c\.json: "name" must be a string, found a list/],
    ['{"name": "a", "config": {"topic": "t"}}', /c\.json: "config\.connector\.class" is missing for connector "a"/],
    ['{"name": "a", "config": {"connector.class": "X", "name": "b"}}', /"name" is "a" but "config\.name" is "b"/],
    [
      '{"name": "a", "config": {"connector.class": "X", "topic": null}}',
      /c\.json: "config\.topic" must be a string, number, boolean or list of them, found null/,
    ],
    [
      '{"name": "a", "config": {"connector.class": "X", "transforms": {"route": 1}}}',
      /"config\.transforms" must be .* found object/,
    ],
    ['{"name": "a", "conifg": {"connector.class": "X"}}', /"conifg" must be a string/],
    [
      '{"name": "a", "config": {"connector.class": "X"}, "tasks.max": 1}',
      /unexpected top-level key "tasks\.max" next to "config"/,
    ],
    ['{"name": "a", "config": {', /c\.json is not valid JSON/],
    ['"just a string"', /must hold an object, found string/],
    [
      '{"name": "a", "config": {"connector.class": "X", "db.password": "[hidden]"}}',
      /"config\.db\.password" is "\[hidden\]", a masked value/,
    ],
  ])('rejects %s naming the file and field (exit 2)', (text, message) => {
    let error: unknown;
    try {
      parseConnectorText(text, 'c.json', '.json');
    } catch (e) {
      error = e;
    }
    const classified = classifyError(error);
    expect(classified.exitCode).toBe(2);
    expect(classified.message).toMatch(message);
  });

  it('names the line of a YAML syntax error', () => {
    expect(() => parseConnectorText('name: a\nconfig: [\n', 'c.yaml', '.yaml')).toThrow(
      /c\.yaml \(line \d, column \d+\): is not valid YAML/,
    );
  });
});

describe('loadConnectorDefinitions', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'erpstream-connector-files-'));
    await writeFile(join(dir, 'b.yaml'), 'name: b\nconnector.class: X\n');
    await writeFile(join(dir, 'a.json'), '{"name": "a", "config": {"connector.class": "X"}}');
    await writeFile(join(dir, 'notes.md'), '# not a connector');
  });

  it('applies a directory file by file in name order, skipping other files', async () => {
    const defs = await loadConnectorDefinitions([dir], stdin());
    expect(defs.map((d) => [d.name, d.source])).toEqual([
      ['a', join(dir, 'a.json')],
      ['b', join(dir, 'b.yaml')],
    ]);
  });

  it('reads stdin for "-"', async () => {
    const defs = await loadConnectorDefinitions(['-'], stdin('{"name": "s", "connector.class": "X"}'));
    expect(defs).toEqual([{ name: 's', source: 'stdin', config: { name: 's', 'connector.class': 'X' } }]);
  });

  it('refuses the same connector twice, a missing path and an empty directory (exit 2)', async () => {
    const twice = await failure(loadConnectorDefinitions([dir, join(dir, 'a.json')], stdin()));
    expect(twice.message).toBe(
      `Connector "a" is defined twice: in ${join(dir, 'a.json')} and in ${join(dir, 'a.json')}.`,
    );
    const missing = await failure(loadConnectorDefinitions([join(dir, 'nope.json')], stdin()));
    expect(missing).toMatchObject({
      exitCode: 2,
      message: `Cannot read connector file ${join(dir, 'nope.json')}: no such file or directory.`,
    });
    const empty = await mkdtemp(join(tmpdir(), 'erpstream-empty-'));
    expect((await failure(loadConnectorDefinitions([empty], stdin()))).message).toMatch(/has no connector files/);
  });
});

import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadWorkerConfig,
  parseListener,
  parseWorkerConfig,
  readConfigFile,
} from '../../../../runtime/worker/config.js';
import { parseProperties } from '../../../../runtime/config-providers/properties.js';

describe('.properties parsing (Java rules)', () => {
  it('handles separators, comments, continuations and escapes', () => {
    const text = [
      '# comment',
      '! also a comment',
      'a=1',
      'b : two words ',
      'c   3',
      'd=first \\',
      '   second',
      'e=tab\\there\\u0041',
      'f\\=g=h',
      'empty=',
      '',
    ].join('\n');
    expect(parseProperties(text)).toEqual({
      a: '1',
      b: 'two words ',
      c: '3',
      d: 'first second',
      e: 'tab\thereA',
      'f=g': 'h',
      empty: '',
    });
  });
});

describe('worker config', () => {
  it('defaults: listener on 127.0.0.1:8083, JsonConverter, 60 s flush, configs next to offsets', () => {
    const c = parseWorkerConfig({ 'offset.storage.file.filename': '/tmp/x/offsets' });
    expect(c.listener).toEqual({ protocol: 'http', host: '127.0.0.1', port: 8083 });
    expect(c.parsed.string('value.converter')).toBe('org.apache.kafka.connect.json.JsonConverter');
    expect(c.offsetFlushIntervalMs).toBe(60000);
    expect(c.configFile).toBe('/tmp/x/offsets.connectors.json');
  });
  it("Connect's `http://:8083` binds 127.0.0.1, not every interface", () => {
    expect(parseListener('http://:8083').host).toBe('127.0.0.1');
    expect(() => parseListener('8083')).toThrow(/listeners/);
  });
  it('errors name the key and value', () => {
    expect(() => parseWorkerConfig({ 'offset.flush.interval.ms': 'soon' })).toThrow(
      'Invalid value soon for configuration offset.flush.interval.ms: Not a number of type LONG',
    );
    expect(() => parseWorkerConfig({ 'exactly.once.source.support': 'maybe' })).toThrow(
      /exactly\.once\.source\.support/,
    );
  });
  it('distributed mode requires group.id and three distinct storage topics', () => {
    expect(() => parseWorkerConfig({}, 'distributed')).toThrow('Missing required configuration "group.id"');
    expect(() =>
      parseWorkerConfig(
        { 'group.id': 'g', 'config.storage.topic': 't', 'offset.storage.topic': 't', 'status.storage.topic': 's' },
        'distributed',
      ),
    ).toThrow(/distinct/);
  });
  it('reads .properties, .json and .yaml; a connector JSON in REST shape is flattened', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-cfg-'));
    await writeFile(
      path.join(dir, 'w.properties'),
      'listeners=http://127.0.0.1:9999\nkey.converter.schemas.enable=false\n',
    );
    await writeFile(path.join(dir, 'w.yaml'), 'listeners: http://127.0.0.1:9998\noffset.flush.interval.ms: 10\n');
    await writeFile(
      path.join(dir, 'c.json'),
      JSON.stringify({ name: 'x', config: { 'connector.class': 'FileStreamSource', 'tasks.max': 2 } }),
    );
    const w = await loadWorkerConfig(path.join(dir, 'w.properties'));
    expect(w.listener.port).toBe(9999);
    expect(w.originals['key.converter.schemas.enable']).toBe('false');
    expect((await loadWorkerConfig(path.join(dir, 'w.yaml'))).offsetFlushIntervalMs).toBe(10);
    expect(await readConfigFile(path.join(dir, 'c.json'))).toEqual({
      'connector.class': 'FileStreamSource',
      'tasks.max': '2',
      name: 'x',
    });
    await expect(readConfigFile(path.join(dir, 'missing.properties'))).rejects.toThrow(/missing\.properties/);
  });
});

import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  erpConnectionValues,
  keysShowingSecrets,
  propertiesText,
  withFileReferences,
  writeErpConnectionFile,
} from '../../../../cli/demo/erp-connection.js';
import { ConfigTransformer, defaultConfigProviders } from '../../../../runtime/config-providers/index.js';
import { parseProperties } from '../../../../runtime/config-providers/properties.js';

const URL_WITH_CREDENTIALS = 'postgresql://erp%20user:p%40ss%3Aw%5Cord%20%23!@127.0.0.1:5432/erpstream_demo_r1';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'demo-erp-connection-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The connectors the example integrations generate, reduced to their ERP connection keys. */
const source = {
  'connection.url': '${env:ERP_DB_URL}',
  'connection.user': '${env:ERP_DB_USER}',
  'connection.password': '${env:ERP_DB_PASSWORD}',
  'topic.prefix': 'erp',
};
const sink = {
  'lookup.connection.url': '${env:ERP_DB_URL}',
  'lookup.connection.user': '${env:ERP_DB_USER}',
  'lookup.connection.password': '${env:ERP_DB_PASSWORD}',
  'delivery.transforms.codes.tables.connection.url': '${env:ERP_DB_URL}',
  'delivery.transforms.codes.tables.connection.user': '${env:ERP_DB_USER}',
  'delivery.transforms.codes.tables.connection.password': '${env:ERP_DB_PASSWORD}',
};

describe("the demo's ERP connection", () => {
  it('splits the URL into a URL without credentials, the user and the password', () => {
    expect(erpConnectionValues(URL_WITH_CREDENTIALS)).toEqual({
      ERP_DB_URL: 'postgresql://127.0.0.1:5432/erpstream_demo_r1',
      ERP_DB_USER: 'erp user',
      ERP_DB_PASSWORD: 'p@ss:w\\ord #!',
      ERP_DB_URL_WITH_CREDENTIALS: URL_WITH_CREDENTIALS,
    });
  });

  it('writes properties the worker reads back exactly, whatever the password holds', () => {
    const values = { A: ' lead space', B: 'back\\slash = : # !', C: 'ümlaut\nnewline', D: '' };
    expect(parseProperties(propertiesText(values, 'test'))).toEqual(values);
  });

  it("puts only ${file:…} references in the configs, and the worker's providers resolve them to this run's ERP", async () => {
    const values = erpConnectionValues(URL_WITH_CREDENTIALS);
    const file = await writeErpConnectionFile(dir, values, 'test');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const sourceConfig = withFileReferences(source, file);
    const sinkConfig = withFileReferences(sink, file);
    expect(sourceConfig).toEqual({
      'connection.url': `\${file:${file}:ERP_DB_URL}`,
      'connection.user': `\${file:${file}:ERP_DB_USER}`,
      'connection.password': `\${file:${file}:ERP_DB_PASSWORD}`,
      'topic.prefix': 'erp',
    });
    expect(keysShowingSecrets(sourceConfig, values)).toEqual([]);
    expect(keysShowingSecrets(sinkConfig, values)).toEqual([]);

    const transformer = new ConfigTransformer(defaultConfigProviders());
    const resolvedSource = await transformer.transform(sourceConfig);
    expect(resolvedSource).toEqual({
      data: {
        'connection.url': 'postgresql://127.0.0.1:5432/erpstream_demo_r1',
        'connection.user': 'erp user',
        'connection.password': 'p@ss:w\\ord #!',
        'topic.prefix': 'erp',
      },
      unresolved: [],
      problems: [],
    });
    // Every URL stays without credentials; only the password keys resolve to the secret.
    const resolvedSink = await transformer.transform(sinkConfig);
    expect(resolvedSink.unresolved).toEqual([]);
    expect(resolvedSink.data['delivery.transforms.codes.tables.connection.url']).toBe(
      'postgresql://127.0.0.1:5432/erpstream_demo_r1',
    );
    expect(resolvedSink.data['lookup.connection.url']).toBe('postgresql://127.0.0.1:5432/erpstream_demo_r1');
    expect(keysShowingSecrets(resolvedSink.data, values)).toEqual([
      'lookup.connection.password',
      'delivery.transforms.codes.tables.connection.password',
    ]);
  });

  it('refuses a temp directory whose path would end a placeholder early', async () => {
    await expect(writeErpConnectionFile('/tmp/a:b', erpConnectionValues(URL_WITH_CREDENTIALS), 'x')).rejects.toThrow(
      "contains ':' or '}'",
    );
  });
});

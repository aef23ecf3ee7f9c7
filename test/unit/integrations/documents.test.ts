import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDocument, loadDocuments, mergeOverlay } from '../../../integrations/documents.js';
import { IntegrationFileError } from '../../../integrations/problems.js';
import { writeTree } from '../cli/integrations/write-files.js';

async function problemsOf(p: Promise<unknown>): Promise<string[]> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(IntegrationFileError);
  return (e as IntegrationFileError).problems.map((x) => `${x.path}: ${x.message}`);
}

describe('overlay merge', () => {
  it('merges maps key by key, replaces lists and scalars, and removes a value set to null', () => {
    const base = { a: { x: 1, y: [1, 2], z: 'keep' }, list: ['a', 'b'], gone: 'yes' };
    const overlay = { a: { x: 2, y: [3] }, list: ['c'], gone: null, added: true };
    expect(mergeOverlay(base, overlay)).toEqual({ a: { x: 2, y: [3], z: 'keep' }, list: ['c'], added: true });
    // The base itself is not modified (several customers extend the same base).
    expect(base.a.x).toBe(1);
  });
});

describe('loading files', () => {
  it('reads YAML and JSON, resolves extends relative to the file, and drops the base kind', async () => {
    const dir = await writeTree({
      'base/base.yaml':
        'apiVersion: erpstream/v1\nkind: IntegrationTemplate\nsource: {name: erp, tables: [erp.a, erp.b]}\n',
      'customers/acme.yaml':
        'apiVersion: erpstream/v1\nkind: Integration\nextends: ../base/base.yaml\nmetadata: {name: acme}\nsource: {tables: [erp.c]}\n',
      'customers/globex.json': JSON.stringify({
        apiVersion: 'erpstream/v1',
        kind: 'Integration',
        metadata: { name: 'globex' },
      }),
    });
    const docs = await loadDocuments([join(dir, 'customers')], dir);
    expect(docs.map((d) => [d.file, d.kind])).toEqual([
      [join('customers', 'acme.yaml'), 'Integration'],
      [join('customers', 'globex.json'), 'Integration'],
    ]);
    expect(docs[0]!.body).toEqual({
      apiVersion: 'erpstream/v1',
      kind: 'Integration',
      metadata: { name: 'acme' },
      source: { name: 'erp', tables: ['erp.c'] },
    });
  });

  it('keeps ${env:…} placeholders as written (secrets are never resolved by the CLI)', async () => {
    const dir = await writeTree({
      'a.yaml': 'kind: Integration\nsource: {connection: {password: "${env:ERP_DB_PASSWORD}"}}\n',
    });
    const doc = await loadDocument(join(dir, 'a.yaml'), dir);
    expect(doc.body.source).toEqual({ connection: { password: '${env:ERP_DB_PASSWORD}' } });
  });

  it('names the file and the extends field when the base is missing or the chain loops', async () => {
    const dir = await writeTree({
      'a.yaml': 'kind: Integration\nextends: ./nope.yaml\n',
      'b.yaml': 'kind: Integration\nextends: ./c.yaml\n',
      'c.yaml': 'kind: Integration\nextends: ./b.yaml\n',
    });
    expect(await problemsOf(loadDocument(join(dir, 'a.yaml'), dir))).toEqual([
      'extends: base file ./nope.yaml not found',
    ]);
    expect(await problemsOf(loadDocument(join(dir, 'b.yaml'), dir))).toEqual([
      'extends: extends cycle: b.yaml → c.yaml → b.yaml',
    ]);
  });

  it('rejects broken YAML with its line, several documents in one file, and non-mapping documents', async () => {
    const dir = await writeTree({
      'bad.yaml': 'kind: Integration\nmetadata:\n  name: [unclosed\n',
      'two.yaml': 'kind: Integration\n---\nkind: Integration\n',
      'list.json': '[1, 2]',
    });
    const [bad] = await problemsOf(loadDocument(join(dir, 'bad.yaml'), dir));
    expect(bad).toMatch(/^: invalid YAML \(line \d+\)/);
    expect(await problemsOf(loadDocument(join(dir, 'two.yaml'), dir))).toEqual([
      ': expected one YAML document, found 2: write one integration per file',
    ]);
    expect(await problemsOf(loadDocument(join(dir, 'list.json'), dir))).toEqual([
      ': expected a mapping with apiVersion, kind, metadata',
    ]);
  });

  it('reports a path that does not exist', async () => {
    const e = (await loadDocuments(['does/not/exist.yaml']).catch((x: unknown) => x)) as IntegrationFileError;
    expect(e.message).toBe('does/not/exist.yaml: no such file or directory');
  });
});

import { describe, expect, it } from 'vitest';
import { displayValue, secretTest } from '../../../cli/connect/secrets.js';
import { diffConfigs, renderChanges, summarizeChanges } from '../../../cli/diff.js';
import { plainStyle } from '../../../cli/output.js';

describe('diffConfigs', () => {
  it('lists added, changed and removed keys in key order', () => {
    const changes = diffConfigs({ a: '1', b: '2', c: '3' }, { a: '1', b: '20', d: '4' });
    expect(changes).toEqual([
      { key: 'b', kind: 'changed', before: '2', after: '20' },
      { key: 'c', kind: 'removed', before: '3' },
      { key: 'd', kind: 'added', after: '4' },
    ]);
    expect(summarizeChanges(changes)).toBe('1 added, 1 changed, 1 removed');
  });

  it('is empty when the configs are equal, whatever the key order', () => {
    expect(diffConfigs({ a: '1', b: '2' }, { b: '2', a: '1' })).toEqual([]);
  });

  it('treats a missing current config as all-added (a new connector)', () => {
    expect(diffConfigs(undefined, { name: 'x' })).toEqual([{ key: 'name', kind: 'added', after: 'x' }]);
  });

  it('never shows secret values, but shows config-provider references and that a secret changed', () => {
    const isSecret = secretTest(new Set(['connection.url.credentials']));
    const display = (k: string, v: string) => displayValue(k, v, isSecret);
    const changes = diffConfigs(
      { 'database.password': 'old-s3cret', 'connection.url.credentials': 'abc', topic: 't' },
      {
        'database.password': 'new-s3cret',
        'connection.url.credentials': '${file:/etc/c.properties:creds}',
        topic: 't',
        'sasl.jaas.config': 'x required password="p";',
      },
      display,
    );
    const text = renderChanges(changes, plainStyle);
    expect(text).toBe(
      '  ~ connection.url.credentials: [hidden] → ${file:/etc/c.properties:creds}\n' +
        '  ~ database.password: [hidden] → [hidden]\n' +
        '  + sasl.jaas.config: [hidden]\n',
    );
    expect(text).not.toMatch(/s3cret|abc|password="p"/);
  });
});

import { describe, expect, it } from 'vitest';
import { debeziumTransformPlugins } from '../../../../transforms/debezium/index.js';
import { erpTransformPlugins } from '../../../../transforms/erp/index.js';

/** What `plugins describe`, generated docs and REST validation rely on from each descriptor. */
describe('Debezium and ERP transform descriptors', () => {
  const all = [...debeziumTransformPlugins, ...erpTransformPlugins];

  it('are registered under their class names with simple aliases', () => {
    expect(all.map((p) => [p.className, ...(p.aliases ?? [])])).toEqual([
      ['io.debezium.transforms.ExtractNewRecordState', 'ExtractNewRecordState'],
      ['io.debezium.transforms.outbox.EventRouter', 'EventRouter'],
      ['erpstream.transforms.CleanSchema', 'CleanSchema'],
      ['erpstream.transforms.TranslateCodes', 'TranslateCodes'],
      ['erpstream.transforms.AttachVersion', 'AttachVersion'],
      ['erpstream.transforms.CorrelationKey', 'CorrelationKey'],
      ['erpstream.transforms.DomainRouter', 'DomainRouter'],
    ]);
  });

  it.each(all.map((p) => [p.className, p] as const))(
    '%s documents every key and has a valid example',
    async (_n, p) => {
      for (const key of p.config.configKeys()) expect(key.documentation.length, key.name).toBeGreaterThan(10);
      expect(p.example).toBeDefined();
      const props: Record<string, string> = {};
      for (const [k, v] of Object.entries(p.example!)) {
        const m = /^transforms\.[^.]+\.(.+)$/.exec(k)!;
        if (m[1] === 'type') {
          expect(v).toBe(p.className);
          continue;
        }
        expect(p.config.key(m[1]!), `${k} is a config key`).toBeDefined();
        props[m[1]!] = v;
      }
      // Examples that need a file or database cannot be configured here; the rest must parse.
      if (!Object.keys(props).some((k) => k.startsWith('tables.'))) await p.create().configure(props);
    },
  );
});

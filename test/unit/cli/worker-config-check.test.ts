import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { unknownWorkerKeyWarnings, unknownWorkerKeys } from '../../../cli/worker-config-check.js';
import { REPO } from './cli-process.js';

describe('worker config keys the worker does not read', () => {
  it('names a typo with the key it was meant to be (bootstrap.server would start on localhost:9092)', () => {
    const lines = unknownWorkerKeyWarnings(
      { 'bootstrap.server': 'kafka:9092', listeners: 'http://127.0.0.1:8083', 'offset.flush.intervall.ms': '1000' },
      'worker.properties',
    );
    expect(lines).toEqual([
      'warning: worker config worker.properties: unknown key "bootstrap.server" is not a setting of the erpstream worker, so it is ignored; did you mean "bootstrap.servers"?',
      'warning: worker config worker.properties: unknown key "offset.flush.intervall.ms" is not a setting of the erpstream worker, so it is ignored; did you mean "offset.flush.interval.ms"?',
    ]);
    expect(unknownWorkerKeyWarnings({ 'rest.extension.classes': 'x' }, 'w.properties')[0]).toContain(
      '(docs/worker.md lists the settings)',
    );
  });

  it('knows every setting docs/worker.md documents, client and converter pass-throughs, and distributed-mode keys', () => {
    const doc = readFileSync(`${REPO}docs/worker.md`, 'utf8');
    const table = doc.slice(
      doc.indexOf('## Worker settings'),
      doc.indexOf('\n## ', doc.indexOf('## Worker settings') + 5),
    );
    const documented = [...table.matchAll(/^\| (.+?) \|/gm)]
      .flatMap((m) => [...m[1]!.matchAll(/`([a-z][a-z0-9.]*[a-z])`/g)].map((k) => k[1]!))
      .filter((k) => !k.endsWith('.'));
    expect(documented).toContain('bootstrap.servers');
    expect(documented).toContain('operations.storage.topic');
    const raw = Object.fromEntries(documented.map((k) => [k, 'x']));
    Object.assign(raw, {
      'value.converter.schemas.enable': 'true',
      'producer.linger.ms': '5',
      'config.providers.file.class': 'x',
      'listeners.https.ssl.keystore.location': 'k',
      'offset.storage.replication.factor': '1',
      'status.storage.partitions': '5',
    });
    expect(unknownWorkerKeys(raw)).toEqual([]);
  });
});

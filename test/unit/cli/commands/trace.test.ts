import { describe, expect, it } from 'vitest';
import { type Lineage, found, renderLineage } from '../../../../cli/commands/trace.js';
import { plainStyle } from '../../../../cli/output.js';

const empty: Lineage = {
  key: '9',
  entityId: '9',
  origin: { entity: 'document', exists: false, version: null, committedAt: null },
  sourceEvents: [],
  parked: [],
  deliveries: [],
  dlq: [],
  scanned: { perPartition: 1000, complete: true },
};

describe('erpstream trace output', () => {
  it('says when nothing knows the key (exit 1), and anything known counts', () => {
    expect(found(empty)).toBe(false);
    expect(found({ ...empty, origin: { ...empty.origin, exists: true } })).toBe(true);
    expect(found({ ...empty, dlq: [{ offset: '1' }] })).toBe(true);
  });

  it('shows each delivery where it landed: Kafka offset, SQL table, HTTP acceptance', () => {
    const text = renderLineage(
      {
        ...empty,
        origin: { entity: 'document', exists: true, version: '12', committedAt: '2026-12-06T07:00:00.000Z' },
        sourceEvents: [{ topic: 'erp.document', partition: 0, offset: '4', version: '12', op: 'u', timestamp: 't' }],
        deliveries: [
          { customer: 'acme', connector: 'a', version: '12', target: 'acme.docs', kafkaPartition: 1, kafkaOffset: '7' },
          { customer: 'globex', connector: 'g', version: '12', target: 'g.docs', sqlTable: 'g.docs' },
          { customer: 'initech', connector: 'i', version: '11', target: 'https://x', httpStatus: '2xx', deleted: true },
        ],
        dlq: [
          {
            customer: 'acme',
            connector: 'a',
            topic: 'dlq',
            partition: 0,
            offset: '3',
            error: { stage: 'TASK_PUT', message: 'gone' },
          },
        ],
        scanned: { perPartition: 1000, complete: false },
      },
      plainStyle,
    );
    expect(text).toContain('document 9: origin version 12, committed 2026-12-06T07:00:00.000Z');
    expect(text).toContain('partition 1 offset 7');
    expect(text).toContain('table g.docs');
    expect(text).toMatch(/HTTP 2xx\s+deleted/);
    expect(text).toContain('Parked (none)');
    expect(text).toMatch(/TASK_PUT\s+gone/);
    expect(text).toContain('partial answer');
  });
});

import { describe, expect, it } from 'vitest';
import type { ReconcileDifference, ReconcileReport } from '../../../../runtime/api/reconcile.js';
import { renderReport } from '../../../../cli/integrations/reconcile.js';
import { plainStyle } from '../../../../cli/output.js';

const diff = (over: Partial<ReconcileDifference>): ReconcileDifference => ({
  kind: 'missing',
  connector: 'acme-shipments-sink',
  entity: 'shipment',
  destination: 'acme',
  entityId: 'S1',
  target: 'acme.shipments',
  originVersion: null,
  ledgerVersion: null,
  destinationVersion: null,
  shouldHold: true,
  ...over,
});

function report(samples: ReconcileDifference[]): ReconcileReport {
  const by = (k: string) => samples.filter((d) => d.kind === k);
  return {
    customer: 'acme',
    inSync: false,
    counts: { missing: by('missing').length, stale: 0, extra: by('extra').length, drift: 0 },
    samples: { missing: by('missing'), stale: [], extra: by('extra'), drift: [] },
    connectors: [],
  } as unknown as ReconcileReport;
}

describe('renderReport samples', () => {
  it('tells an origin without lookup.version.column ("unversioned") from an origin that holds nothing ("-")', () => {
    const text = renderReport(
      report([
        diff({ entityId: 'S1' }),
        diff({ kind: 'extra', entityId: 'S2', shouldHold: false, ledgerVersion: '7', destinationVersion: '7' }),
      ]),
      plainStyle,
    );
    expect(text).toContain('missing shipment S1 → acme.shipments (origin unversioned, ledger -, destination -)');
    expect(text).toContain('extra   shipment S2 → acme.shipments (origin -, ledger 7, destination 7)');
  });

  it('prints the origin version when there is one', () => {
    const text = renderReport(report([diff({ originVersion: '101', ledgerVersion: '101' })]), plainStyle);
    expect(text).toContain('(origin 101, ledger 101, destination -)');
  });
});

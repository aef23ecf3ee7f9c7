import { describe, expect, it } from 'vitest';
import type { SinkRecord, SinkTaskContext } from '../../../../runtime/api/index.js';
import { DeliveryShaper } from '../../../../connectors/lookup-sink/shaping.js';
import { JsonText } from '../../../../connectors/shared/sql/index.js';

/** A delivery chain that keeps what it was given and passes it on. */
function recordingContext(seen: unknown[]): SinkTaskContext {
  return {
    transforms: async () => ({
      apply(r: SinkRecord) {
        seen.push(r.value);
        return r;
      },
      close: async () => {},
    }),
  } as unknown as SinkTaskContext;
}

describe('delivery transforms and json/jsonb columns', () => {
  it('see a json column parsed (a map they can reach into), as before json travelled as text', async () => {
    const seen: unknown[] = [];
    const shaper = (await DeliveryShaper.open(
      recordingContext(seen),
      {},
      {
        deliveryTransforms: ['t'],
        entity: 'doc',
        destination: { type: 'kafka' },
      },
    ))!;
    const row = { id: 1, doc: new JsonText('{"a": {"b": [1, "x"]}}'), tag: new JsonText('"s"'), none: null };
    shaper.shape(row, '1', 1n, 'out', null);
    expect(seen).toEqual([{ id: 1, doc: { a: { b: [1, 'x'] } }, tag: 's', none: null }]);
    // The row itself is left as it was (it may be written elsewhere as the database's text).
    expect(row.doc).toBeInstanceOf(JsonText);
  });
});

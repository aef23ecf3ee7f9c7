import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { schemaEquals, valuesEqual } from '../../../../runtime/api/index.js';
import { JsonConverter } from '../../../../runtime/converters/index.js';
import { schemaAndValueArb, schemalessValueArb, structSpecArb } from './arbitraries.js';

function converter(props: Record<string, string>): JsonConverter {
  const c = new JsonConverter();
  c.configure(props, false);
  return c;
}

describe('JsonConverter round trip (property)', () => {
  for (const format of ['BASE64', 'NUMERIC']) {
    it(`any schema and value survive schemas.enable=true, decimal.format=${format}`, async () => {
      const c = converter({ 'decimal.format': format });
      await fc.assert(
        fc.asyncProperty(schemaAndValueArb(), async ({ schema, value }) => {
          const bytes = await c.fromConnectData('t', [], schema, value);
          if (value === null) {
            // An optional schema with a null value still has an envelope (only schema+value null is a tombstone).
            expect(bytes).not.toBeNull();
          }
          const back = await c.toConnectData('t', [], bytes);
          expect(schemaEquals(back.schema, schema)).toBe(true);
          expect(valuesEqual(back.value, value)).toBe(true);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('struct records survive a fresh converter (cold schema cache)', async () => {
    await fc.assert(
      fc.asyncProperty(schemaAndValueArb(structSpecArb), async ({ schema, value }) => {
        const bytes = await converter({}).fromConnectData('t', [], schema, value);
        const back = await converter({}).toConnectData('t', [], bytes);
        expect(valuesEqual(back.value, value)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('schemaless JSON values survive schemas.enable=false', async () => {
    const c = converter({ 'schemas.enable': 'false' });
    await fc.assert(
      fc.asyncProperty(schemalessValueArb, async (value) => {
        const bytes = await c.fromConnectData('t', [], null, value);
        const back = await c.toConnectData('t', [], bytes);
        expect(back.schema).toBeNull();
        expect(valuesEqual(back.value, value)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

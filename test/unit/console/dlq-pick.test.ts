import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a .js module without types, shipped as is (no build step)
import { pickConnector } from '../../../console/dlq-pick.js';

const pick = pickConnector as (names: string[], has: (n: string) => Promise<boolean>) => Promise<string>;

describe('the DLQ view opens on a connector that has dead letters', () => {
  it('skips sinks of the shared topic that have none (the demo: globex shipments, fourth)', async () => {
    const names = ['g-documents-sink', 'g-persons-sink', 'g-phones-sink', 'g-shipments-sink'];
    expect(await pick(names, async (n) => n === 'g-shipments-sink')).toBe('g-shipments-sink');
  });

  it('keeps the first when none has any, or when asking fails', async () => {
    expect(await pick(['a', 'b'], async () => false)).toBe('a');
    expect(
      await pick(['a', 'b'], async () => {
        throw new Error('400 no DLQ');
      }),
    ).toBe('a');
  });

  it('asks nobody for zero or one connector', async () => {
    const asked: string[] = [];
    const has = async (n: string) => (asked.push(n), true);
    expect(await pick([], has)).toBe('');
    expect(await pick(['only'], has)).toBe('only');
    expect(asked).toEqual([]);
  });
});

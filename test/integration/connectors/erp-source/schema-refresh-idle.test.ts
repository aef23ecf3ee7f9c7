import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Decimal, SourceRecord } from '../../../../runtime/api/index.js';
import type * as SchemaChange from '../../../../connectors/erp-source/schema-change.js';
import { type DbFixture, TaskHarness, envelope, events, pgFixture, sourceProps } from './harness.js';

// The catalog fingerprint query (schema.refresh.interval.ms) on the real PostgreSQL: an idle task does not run it
// every interval, and a type widened while the task was idle is still in the schema of the first row after it.
const calls = vi.hoisted(() => ({ n: 0 }));
vi.mock('../../../../connectors/erp-source/schema-change.js', async (importOriginal) => {
  const m = await importOriginal<typeof SchemaChange>();
  return {
    ...m,
    catalogFingerprints: (...args: Parameters<typeof m.catalogFingerprints>) => {
      calls.n++;
      return m.catalogFingerprints(...args);
    },
  };
});

let db: DbFixture;
let h: TaskHarness | null = null;
const q = (t: string) => `"${db.schema}"."${t}"`;
const precision = (r: SourceRecord) =>
  envelope(r).after!.schema.fields!.find((f) => f.name === 'amount')!.schema.parameters?.['connect.decimal.precision'];

beforeAll(async () => {
  db = await pgFixture();
  await db.createCaptured('invoice', 'id integer PRIMARY KEY, amount decimal(10,2)');
});
afterAll(async () => {
  await h?.stop();
  await db?.close();
});

describe('ErpSource schema refresh while idle', () => {
  it('reads no catalog while nothing changes, and still emits the first row after an ALTER with the new type', async () => {
    h = new TaskHarness(
      sourceProps(db, {
        'table.include.list': `${db.schema}\\.invoice`,
        'snapshot.mode': 'never',
        'schema.refresh.interval.ms': '50',
      }),
    );
    await h.start();
    await db.exec(`INSERT INTO ${q('invoice')} VALUES (1, 1.50)`);
    expect(precision(events(await h.pollUntil((all) => events(all).length >= 1))[0]!)).toBe('10');

    const before = calls.n;
    expect(events(await h.pollFor(1500))).toEqual([]);
    // Idle for 30 intervals: not one fingerprint query (it ran every 50 ms before).
    expect(calls.n - before).toBe(0);

    await db.exec(`ALTER TABLE ${q('invoice')} ALTER COLUMN amount TYPE numeric(14,2)`);
    await new Promise((r) => setTimeout(r, 200));
    await db.exec(`UPDATE ${q('invoice')} SET amount = 123456789012.34 WHERE id = 1`);
    const after = events(await h.pollUntil((all) => events(all).length >= 1));
    expect(precision(after[0]!)).toBe('14');
    expect((envelope(after[0]!).after!.get('amount') as Decimal).toString()).toBe('123456789012.34');
    expect(calls.n - before).toBeGreaterThan(0);
  });

  it('an incompatible change made while idle stops the task with the SchemaError, not a conversion error', async () => {
    await h!.pollFor(300);
    await db.exec(`ALTER TABLE ${q('invoice')} ALTER COLUMN amount TYPE numeric(18,4)`);
    await db.exec(`UPDATE ${q('invoice')} SET amount = 2.1234 WHERE id = 1`);
    const err = await h!
      .pollUntil(() => false, 5_000)
      .then(
        () => null,
        (e: unknown) => e as Error & { code?: string },
      );
    expect(err?.code).toBe('ERPSTREAM_SCHEMA');
    expect(err?.message).toMatch(/column amount/);
  });
});

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Entry,
  classify,
  compareEntries,
  mergeById,
} from '../../../../connectors/lookup-sink/reconcile/compare.js';
import { ExternalSorter } from '../../../../connectors/lookup-sink/reconcile/external-sort.js';
import { allRowsQuery } from '../../../../connectors/lookup-sink/reconcile/origin-query.js';
import { compileTemplate } from '../../../../connectors/lookup-sink/sql/named-params.js';
import { customerReport } from '../../../../runtime/api/reconcile.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function* from(entries: Entry[]): AsyncGenerator<Entry> {
  yield* [...entries].sort(compareEntries);
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('ExternalSorter', () => {
  it('sorts across spilled runs exactly as an in-memory sort, keeps equal keys in arrival order, and cleans up', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reconcile-unit-'));
    dirs.push(dir);
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const items: Array<[string, number]> = Array.from({ length: 5000 }, (_, i) => [String(Math.floor(rnd() * 700)), i]);
    const sorter = new ExternalSorter<[string, number]>((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0), {
      runSize: 97,
      tempDir: dir,
    });
    for (const it of items) await sorter.add(it);
    expect((await readdir(dir)).length).toBe(1); // one run directory, 51 runs in it
    const got = await all(sorter.sorted());
    const want = [...items].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0) || a[1] - b[1]);
    expect(got).toEqual(want);
    expect(await readdir(dir)).toEqual([]);
  });

  it('never writes a file when everything fits in one run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reconcile-unit-'));
    dirs.push(dir);
    const sorter = new ExternalSorter<string>((a, b) => (a < b ? -1 : a > b ? 1 : 0), { runSize: 10, tempDir: dir });
    for (const s of ['b', 'c', 'a']) await sorter.add(s);
    expect(await readdir(dir)).toEqual([]);
    expect(await all(sorter.sorted())).toEqual(['a', 'b', 'c']);
  });
});

describe('classify (one id, per target)', () => {
  const g = (origin: Entry[], ledger: Entry[], destination: Entry[] | null) => ({
    id: '1',
    origin,
    ledger,
    destination,
  });
  const kinds = (f: ReturnType<typeof classify>) => f.map((x) => `${x.kind}:${x.target}`);

  it('in sync: nothing', () => {
    expect(classify(g([['1', 't', '5', 'r']], [['1', 't', '5', 'h']], [['1', 't', '5', 'h']]), true)).toEqual([]);
  });
  it('missing at the destination while the ledger says delivered: missing and drift', () => {
    expect(kinds(classify(g([['1', 't', '5', 'r']], [['1', 't', '5', 'h']], []), true))).toEqual([
      'missing:t',
      'drift:t',
    ]);
  });
  it('stale only with versions; a destination behind the ledger also drifts', () => {
    const group = g([['1', 't', '7', 'r']], [['1', 't', '7', 'h']], [['1', 't', '5', 'h']]);
    expect(kinds(classify(group, true))).toEqual(['stale:t', 'drift:t']);
    expect(kinds(classify(group, false))).toEqual(['drift:t']);
  });
  it('extra where the origin routes elsewhere or nowhere, but not while a dependency is pending', () => {
    expect(kinds(classify(g([['1', '', null, 'w']], [['1', 't', '5', 'h']], [['1', 't', '5', 'h']]), true))).toEqual([
      'extra:t',
    ]);
    expect(kinds(classify(g([], [['1', 't', '5', 'h']], null), true))).toEqual(['extra:t']);
    expect(classify(g([['1', '', null, 'p']], [['1', 't', '5', 'h']], [['1', 't', '5', 'h']]), true)).toEqual([]);
    expect(kinds(classify(g([['1', 'u', '5', 'r']], [['1', 't', '5', 'h']], [['1', 't', '5', 'h']]), true))).toEqual([
      'extra:t',
      'missing:u',
    ]);
  });
  it('without a readable destination, the ledger stands for it (no drift)', () => {
    expect(kinds(classify(g([['1', 't', '5', 'r']], [], null), true))).toEqual(['missing:t']);
    expect(kinds(classify(g([['1', 't', '6', 'r']], [['1', 't', '5', 'h']], null), true))).toEqual(['stale:t']);
  });
});

describe('mergeById', () => {
  it('groups the three sorted sides by id, ids any side knows', async () => {
    const groups = await all(
      mergeById(
        from([
          ['2', 't', '1', 'r'],
          ['1', 't', '1', 'r'],
        ]),
        from([
          ['3', 't', '1', 'h'],
          ['1', 't', '1', 'h'],
        ]),
        from([['10', 't', '1', 'h']]),
      ),
    );
    expect(groups.map((x) => [x.id, x.origin.length, x.ledger.length, x.destination!.length])).toEqual([
      ['1', 1, 1, 0],
      ['10', 0, 0, 1],
      ['2', 1, 0, 0],
      ['3', 0, 1, 0],
    ]);
  });
});

describe('allRowsQuery (lookup.query without its id filter)', () => {
  it('replaces the one `<key> IN (:ids)` predicate and keeps everything else', () => {
    const q = (sql: string) => allRowsQuery(compileTemplate('lookup.query', sql));
    expect(
      q(
        `SELECT d.*, dd."DOMAIN" AS domain FROM erp.document d LEFT JOIN erp.document_domain dd ON dd."DOC_ID" = d."DOC_ID" AND dd."DOMAIN" = 'acme' WHERE d."DOC_ID" IN (:ids)`,
      ),
    ).toBe(
      `SELECT d.*, dd."DOMAIN" AS domain FROM erp.document d LEFT JOIN erp.document_domain dd ON dd."DOC_ID" = d."DOC_ID" AND dd."DOMAIN" = 'acme' WHERE 1 = 1`,
    );
    expect(q('SELECT * FROM t WHERE (a, b) IN ( :ids ) AND active')).toBe('SELECT * FROM t WHERE 1 = 1 AND active');
    expect(q('SELECT * FROM t WHERE `k` in (:ids) ORDER BY k')).toBe('SELECT * FROM t WHERE 1 = 1 ORDER BY k');
  });
  it('refuses a query that uses :ids otherwise, naming lookup.query', () => {
    expect(() => allRowsQuery(compileTemplate('lookup.query', 'SELECT * FROM f(:ids)'))).toThrow(/lookup\.query/);
    expect(() =>
      allRowsQuery(compileTemplate('lookup.query', 'SELECT * FROM t WHERE a IN (:ids) OR b IN (:ids)')),
    ).toThrow(/use :ids once/);
  });
});

describe('customerReport', () => {
  it('adds connector counts up and is in sync only when every count is 0', () => {
    const base = {
      entity: 'e',
      destination: 'd',
      destinationType: 'jdbc',
      compared: { destination: true, versions: true },
      totals: { origin: 1, ledger: 1, destination: 1, waiting: 0 },
      samples: { missing: [], stale: [], extra: [], drift: [] },
      targets: [],
      notes: [],
      seconds: 0,
    };
    const times = { startedAt: 'a', finishedAt: 'b' };
    const ok = customerReport(
      'c',
      [{ ...base, connector: 'x', counts: { missing: 0, stale: 0, extra: 0, drift: 0 } }],
      5,
      times,
    );
    expect(ok.inSync).toBe(true);
    const bad = customerReport(
      'c',
      [
        { ...base, connector: 'x', counts: { missing: 1, stale: 0, extra: 0, drift: 0 } },
        { ...base, connector: 'y', counts: { missing: 2, stale: 0, extra: 3, drift: 0 } },
      ],
      5,
      times,
    );
    expect(bad).toMatchObject({
      inSync: false,
      counts: { missing: 3, stale: 0, extra: 3, drift: 0 },
      operationId: null,
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decimal, SourceRecord } from '../../../../runtime/api/index.js';
import { type DbFixture, TaskHarness, envelope, events, keyOf, sourceProps, startWatchedConnector } from './harness.js';

/** Schema changes and new tables in a running capture, against a real database. */
export function defineSchemaEvolutionSuite(name: string, makeFixture: () => Promise<DbFixture>): void {
  describe(`ErpSource schema changes and new tables on ${name}`, () => {
    let db: DbFixture;
    const harnesses: TaskHarness[] = [];
    const harness = (props: Record<string, string>): TaskHarness => {
      const h = new TaskHarness(props);
      harnesses.push(h);
      return h;
    };
    const pgLike = () => db.dialect === 'postgresql';
    const q = (t: string) => (pgLike() ? `"${db.schema}"."${t}"` : `\`${db.schema}\`.\`${t}\``);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const field = (r: SourceRecord, f: string) => envelope(r).after!.schema.fields!.find((x) => x.name === f)!;

    beforeAll(async () => {
      db = await makeFixture();
    });
    afterAll(async () => {
      for (const h of harnesses) await h.stop().catch(() => {});
      await db?.close();
    });

    it('picks up widened column types without a restart (DECIMAL precision, varchar length)', async () => {
      await db.createCaptured('invoice', 'id integer PRIMARY KEY, ref varchar(20), amount decimal(10,2)');
      const h = harness(
        sourceProps(db, {
          'table.include.list': `${db.schema}\\.invoice`,
          'snapshot.mode': 'never',
          'schema.refresh.interval.ms': '100',
        }),
      );
      await h.start();
      await db.exec(`INSERT INTO ${q('invoice')} (id, ref, amount) VALUES (1, 'I-1', 12345678.90)`);
      const first = events(await h.pollUntil((all) => events(all).length >= 1));
      expect(field(first[0]!, 'amount').schema.parameters).toMatchObject({
        scale: '2',
        'connect.decimal.precision': '10',
      });
      await db.exec(
        pgLike()
          ? `ALTER TABLE ${q('invoice')} ALTER COLUMN ref TYPE varchar(100), ALTER COLUMN amount TYPE numeric(14,2)`
          : `ALTER TABLE ${q('invoice')} MODIFY ref varchar(100), MODIFY amount decimal(14,2)`,
      );
      await sleep(250); // past schema.refresh.interval.ms
      const longRef = 'I-'.padEnd(80, 'x');
      await db.exec(`UPDATE ${q('invoice')} SET ref = '${longRef}', amount = 123456789012.34 WHERE id = 1`);
      const second = events(await h.pollUntil((all) => events(all).length >= 1));
      expect(field(second[0]!, 'amount').schema.parameters).toMatchObject({
        scale: '2',
        'connect.decimal.precision': '14',
      });
      expect((envelope(second[0]!).after!.get('amount') as Decimal).toString()).toBe('123456789012.34');
      expect(envelope(second[0]!).after!.get('ref')).toBe(longRef);
      const log = h.logs.find((l) => l.msg === 'Table schema changed; new schema in use');
      // MariaDB's catalog types carry the length, so the varchar widening is listed there too
      expect(log?.fields?.changes).toEqual(
        expect.arrayContaining([expect.stringMatching(/^column amount .*\(10,2\).*→.*\(14,2\)/)]),
      );
      await h.stop();
    });

    it('stops with a SchemaError naming the column on an incompatible change, and continues after a restart', async () => {
      await db.createCaptured('payment', 'id integer PRIMARY KEY, amount decimal(10,2)');
      const h = harness(
        sourceProps(db, {
          'table.include.list': `${db.schema}\\.payment`,
          'snapshot.mode': 'never',
          'schema.refresh.interval.ms': '100',
        }),
      );
      await h.start();
      await db.exec(`INSERT INTO ${q('payment')} (id, amount) VALUES (1, 1.50)`);
      await h.pollUntil((all) => events(all).length >= 1);
      await db.exec(
        pgLike()
          ? `ALTER TABLE ${q('payment')} ALTER COLUMN amount TYPE decimal(10,4)`
          : `ALTER TABLE ${q('payment')} MODIFY amount decimal(10,4)`,
      );
      await db.exec(`UPDATE ${q('payment')} SET amount = 2.1234 WHERE id = 1`);
      await sleep(250);
      const err = await h
        .pollUntil(() => false, 5_000)
        .then(
          () => null,
          (e: unknown) => e as Error & { code?: string },
        );
      expect(err?.code).toBe('ERPSTREAM_SCHEMA');
      expect(err?.message).toMatch(new RegExp(`Incompatible schema change in ${db.schema}\\.payment: column amount`));
      expect(err?.message).toMatch(/\(10,2\).*→.*\(10,4\)/);
      // The operator accepts the change: a restart resumes at the same position with the new schema.
      await h.restart();
      const after = events(await h.pollUntil((all) => events(all).length >= 1));
      expect(Number(keyOf(after[0]!))).toBe(1);
      expect((envelope(after[0]!).after!.get('amount') as Decimal).toString()).toBe('2.1234');
      await h.stop();
    });

    it('captures a table created after the connector started: tasks are reconfigured, the table is snapshotted, then streamed', async () => {
      await db.createCaptured('region', 'id integer PRIMARY KEY, label varchar(20)');
      const props = sourceProps(db, {
        'table.include.list': `${db.schema}\\.(region|depot)`,
        'table.poll.interval.ms': '100',
      });
      const { connector, reconfigured } = await startWatchedConnector(props);
      try {
        const h = harness(connector.taskConfigs(1)[0]!);
        await h.start();
        await db.exec(`INSERT INTO ${q('region')} (id, label) VALUES (1, 'north')`);
        await h.pollUntil((all) => events(all, 'region').length >= 1);

        await db.createCaptured('depot', 'id integer PRIMARY KEY, city varchar(20)');
        await db.exec(`INSERT INTO ${q('depot')} (id, city) VALUES (1, 'Bern'), (2, 'Genf')`);
        expect(await reconfigured()).toBe(1);
        // What the worker does on requestTaskReconfiguration: stop the task, start it with the new config.
        await h.stop();
        h.props = connector.taskConfigs(1)[0]!;
        expect(h.props['task.tables']!.split(',')).toEqual([`${db.schema}.depot`, `${db.schema}.region`]);
        await db.exec(`UPDATE ${q('region')} SET label = 'nord' WHERE id = 1`);
        await h.start();
        const snap = await h.pollUntil((all) => events(all, 'depot').length >= 2);
        expect(events(snap, 'depot').map((r) => envelope(r).op)).toEqual(['r', 'r']);
        expect(events(snap, 'region').every((r) => envelope(r).op !== 'r')).toBe(true); // resumed, not re-snapshotted
        await db.exec(`UPDATE ${q('depot')} SET city = 'Genève' WHERE id = 2`);
        const stream = await h.pollUntil(
          (all) =>
            events(all, 'depot').some((r) => envelope(r).op === 'u') &&
            [...events(snap, 'region'), ...events(all, 'region')].some(
              (r) => envelope(r).after?.get('label') === 'nord',
            ),
        );
        expect(envelope(events(stream, 'depot').find((r) => envelope(r).op === 'u')!).after!.get('city')).toBe(
          'Genève',
        );
        await h.stop();
      } finally {
        await connector.stop();
      }
    });

    it('under snapshot.mode=never, a table created while running keeps the changes made before it was found', async () => {
      await db.createCaptured('shelf', 'id integer PRIMARY KEY, label varchar(20)');
      const { connector, reconfigured } = await startWatchedConnector(
        sourceProps(db, {
          'table.include.list': `${db.schema}\\.(shelf|bin)`,
          'snapshot.mode': 'never',
          'table.poll.interval.ms': '100',
        }),
      );
      try {
        const h = harness(connector.taskConfigs(1)[0]!);
        await h.start();
        await db.exec(`INSERT INTO ${q('shelf')} (id, label) VALUES (1, 'top')`);
        await h.pollUntil((all) => events(all, 'shelf').length >= 1);

        // Created and written while the task runs without it: these rows are changes after the connector started.
        await db.createCaptured('bin', 'id integer PRIMARY KEY, size varchar(20)');
        await db.exec(`INSERT INTO ${q('bin')} (id, size) VALUES (1, 'S'), (2, 'M')`);
        await db.exec(`UPDATE ${q('bin')} SET size = 'L' WHERE id = 2`);
        expect(await reconfigured()).toBe(1);
        await h.stop();
        h.props = connector.taskConfigs(1)[0]!;
        expect(Object.keys(JSON.parse(h.props['task.tables.start']!) as object)).toEqual([`${db.schema}.bin`]);
        await db.exec(`INSERT INTO ${q('bin')} (id, size) VALUES (3, 'XL')`);
        await h.start();
        // Full-row events: the insert and update of id 2, read together, arrive as one event with the row as it is.
        const got = events(
          await h.pollUntil((all) => new Set(events(all, 'bin').map((r) => Number(keyOf(r)))).size >= 3),
          'bin',
        );
        expect(got.map((r) => [envelope(r).op, Number(keyOf(r)), envelope(r).after!.get('size')])).toEqual([
          ['c', 1, 'S'],
          ['c', 2, 'L'],
          ['c', 3, 'XL'],
        ]);
        await h.stop();
      } finally {
        await connector.stop();
      }
    });
  });
}

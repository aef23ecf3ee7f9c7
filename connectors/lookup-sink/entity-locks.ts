import { createHash } from 'node:crypto';
import { RetriableError } from '../../runtime/api/index.js';
import type { SqlClient } from './sql/client.js';

/**
 * Per-entity locks shared by every task of every process that uses the same ledger database: a task holds the locks
 * of a batch's entities from before it reads the ledger and looks the rows up until the batch's ledger write has
 * landed. Two tasks then never decide and send the same entity at the same time, so the later one always sees what
 * the earlier one sent (its ledger entry) and reads the origin after it.
 *
 * Why: with tasks.max > 1 an entity's own records reach the task that owns its input partition, while a dependency
 * topic's record (a registration), a parent's delivery (the in-process wake-up) or a due re-check of the park table
 * can decide the same entity in any other task. A Kafka topic or an HTTP receiver takes whatever arrives last, so
 * two such decisions racing could deliver an older version after a newer one. A jdbc destination's version guard
 * keeps its rows from going back, but not where they go: two tasks deciding a document at the same version, one
 * before its registration was removed and one after, could leave it in the customer's table with a ledger that no
 * longer lists it there (multitask-order.test.ts, jdbc), so jdbc takes the locks too.
 *
 * The locks live in the database, not in memory, because the tasks may run in different worker processes; they go
 * with the holder's connection, so a task that dies releases them. Keys are taken in sorted order, so two batches
 * waiting for each other's keys cannot deadlock (a batch never waits for a key while another of its own batches
 * waits for it: a held batch only finishes its send and ledger write).
 */
export interface HeldLocks {
  /** The ids whose locks are held (all of them, unless acquired with `wait: false`). */
  readonly ids: ReadonlySet<string>;
  /** Ends the lock transaction (idempotent; never throws: a lost connection released the locks anyway). */
  release(): Promise<void>;
}

/** MySQL/MariaDB and SQL Server: seconds a batch waits for another task's batch before it is retried. */
const LOCK_WAIT_S = 300;
/** GET_LOCK calls per statement (MySQL evaluates the select list left to right: the sorted order holds). */
const LOCK_PER_STATEMENT = 100;

const busy = () =>
  new RetriableError(
    `Another lookup sink task held an entity of this batch for ${LOCK_WAIT_S} s; the batch is retried`,
  );

export class EntityLocks {
  /**
   * @param db a client of the ledger database with its own pool: a held lock keeps one of its connections for the
   *   batch's whole delivery, which must not starve the ledger and park reads of the next batch.
   * @param scope destination and entity (`destination|entity`): the same id of another entity is another lock.
   */
  constructor(
    private readonly db: SqlClient,
    private readonly scope: string,
  ) {}

  /**
   * Waits until this task holds the locks of all these entity ids; release() gives them back. With `wait: false`
   * it takes only the locks that are free now (a background re-check skips what another task is deciding).
   */
  async acquire(ids: readonly string[], options: { wait: boolean } = { wait: true }): Promise<HeldLocks> {
    if (ids.length === 0) return { ids: new Set(), release: async () => {} };
    const idsOf = new Map<string, string[]>();
    for (const id of new Set(ids)) {
      const k = this.key(id);
      idsOf.set(k, [...(idsOf.get(k) ?? []), id]);
    }
    const keys = [...idsOf.keys()].sort(this.db.kind === 'postgresql' ? byBigInt : undefined);
    let got: readonly string[] = [];
    let held!: () => void;
    let refused!: (e: unknown) => void;
    const acquired = new Promise<void>((resolve, reject) => {
      held = resolve;
      refused = reject;
    });
    let done!: () => void;
    const released = new Promise<void>((r) => (done = r));
    const transaction = this.db
      .transaction(async (tx) => {
        await this.lock(tx, keys, options.wait, async (taken) => {
          got = taken;
          held();
          await released;
        });
      })
      .catch((e: unknown) => refused(e));
    await acquired;
    let ended: Promise<void> | null = null;
    return {
      ids: new Set(got.flatMap((k) => idsOf.get(k) ?? [])),
      release: () => {
        ended ??= (async () => {
          done();
          await transaction;
        })();
        return ended;
      },
    };
  }

  /** 64 bits of sha1(scope|id): a PostgreSQL advisory lock key (signed decimal), or hex for a lock name. */
  private key(id: string): string {
    const digest = createHash('sha1').update(`${this.scope}|${id}`).digest();
    return this.db.kind === 'postgresql' ? digest.readBigInt64BE(0).toString() : digest.toString('hex', 0, 16);
  }

  private async lock(
    tx: SqlClient,
    keys: readonly string[],
    wait: boolean,
    whileHeld: (taken: readonly string[]) => Promise<void>,
  ): Promise<void> {
    switch (tx.kind) {
      case 'postgresql': {
        // Transaction-scoped: released by the COMMIT (or by the server when the connection dies); taken in array
        // order, which is sorted.
        const list = keys.join(',');
        if (!wait) {
          const rows = await tx.query(
            "SELECT k FROM unnest(string_to_array(?, ',')) AS u(k) WHERE pg_try_advisory_xact_lock(k::bigint)",
            [list],
          );
          await whileHeld(rows.map((r) => String(r.k)));
          return;
        }
        await tx.query(
          "SELECT count(pg_advisory_xact_lock(k::bigint)) AS n FROM unnest(string_to_array(?, ',')) AS u(k)",
          [list],
        );
        await whileHeld(keys);
        return;
      }
      case 'mysql': {
        // Session locks: given back explicitly before the connection returns to the pool.
        const name = (k: string) => `erpstream:${k}`;
        const got: string[] = [];
        try {
          for (let i = 0; i < keys.length; i += LOCK_PER_STATEMENT) {
            const part = keys.slice(i, i + LOCK_PER_STATEMENT);
            const [row] = await tx.query(
              `SELECT ${part.map((_, j) => `GET_LOCK(?, ${wait ? LOCK_WAIT_S : 0}) AS l${j}`).join(', ')}`,
              part.map(name),
            );
            const before = got.length;
            part.forEach((k, j) => {
              if (Number(row?.[`l${j}`]) === 1) got.push(k);
            });
            if (wait && got.length < before + part.length) throw busy();
          }
          await whileHeld(got);
        } finally {
          for (let i = 0; i < got.length; i += LOCK_PER_STATEMENT) {
            const part = got.slice(i, i + LOCK_PER_STATEMENT);
            await tx
              .query(`SELECT ${part.map((_, j) => `RELEASE_LOCK(?) AS r${j}`).join(', ')}`, part.map(name))
              .catch(() => {});
          }
        }
        return;
      }
      case 'sqlserver': {
        // Transaction-owned application locks, released by the COMMIT.
        const got: string[] = [];
        for (const k of keys) {
          const [row] = await tx.query(
            `DECLARE @r int; EXEC @r = sp_getapplock @Resource = ?, @LockMode = 'Exclusive', @LockOwner = 'Transaction', ` +
              `@LockTimeout = ${wait ? LOCK_WAIT_S * 1000 : 0}; SELECT @r AS r`,
            [`erpstream:${k}`],
          );
          if (Number(row?.r) >= 0) got.push(k);
          else if (wait) throw busy();
        }
        await whileHeld(got);
        return;
      }
    }
  }
}

function byBigInt(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

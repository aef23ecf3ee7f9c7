import { DEMO_CUSTOMERS, POISON_STATUS, type Queryable, SHIPMENT_STATUS } from './schema.js';
import { sleep } from '../../../runtime/api/sleep.js';

/**
 * An operations team at work on the demo ERP, for a set duration: shipments created and moved through
 * their statuses, documents written before they are registered to a customer domain, phones saved before
 * their person, one long transaction that commits late (its change rows carry lower sequence numbers than
 * rows committed meanwhile), and one poison row (a status code the translation table does not know). Every
 * write is recorded in a ledger, so the demo can prove afterwards that each origin row reached its customer.
 */

export interface PoolLike extends Queryable {
  connect(): Promise<Queryable & { release(): void }>;
}

export interface Customer {
  readonly code: string;
  readonly domain: string;
}

export interface SimulatorOptions {
  durationMs: number;
  /** Operations per second (approximate; each is one or two autocommit statements). Default 20. */
  rate?: number;
  /** Default: the two demo customers. */
  customers?: readonly Customer[];
  /** Deterministic runs: same seed, same operations. */
  seed?: number;
  /** How long the long transaction stays open. Default: a third of the duration, at most 10 s. */
  longTransactionMs?: number;
  /** Delay range between a document and its registration, and a phone and its person (ms). */
  raceDelayMs?: readonly [number, number];
  /** Write the poison row (default true). */
  poison?: boolean;
  signal?: AbortSignal;
  onProgress?: (ledger: Ledger) => void;
}

export type Entity = 'shipment' | 'document' | 'person' | 'phone';
export const ENTITIES: readonly Entity[] = ['shipment', 'document', 'person', 'phone'];

export interface CustomerLedger {
  /** Ids of the origin rows that exist and must be delivered to this customer, per entity. */
  rows: Record<Entity, string[]>;
  /** Rows written that must NOT be delivered (the poison row): they must end in the DLQ. */
  poison: Array<{ entity: Entity; id: string; reason: string }>;
}

export interface Ledger {
  startedAt: number;
  finishedAt: number | null;
  customers: Record<string, CustomerLedger>;
  /** Row changes written per table (each becomes one change-table row through the triggers). */
  changes: Record<string, number>;
  races: { documentsBeforeRegistration: number; phonesBeforePersons: number };
  longTransaction: { openedAt: number; committedAt: number | null; heldMs: number; rows: number } | null;
  operations: number;
}

/**
 * A small seeded PRNG (mulberry32) of floats in [0, 1): the demo's operations are reproducible, and the randomized
 * tests replay a failure from its seed (test/support/seeded-random.ts).
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUS_FLOW = Object.keys(SHIPMENT_STATUS).filter((s) => s !== '90');

export function emptyLedger(customers: readonly Customer[]): Ledger {
  return {
    startedAt: Date.now(),
    finishedAt: null,
    customers: Object.fromEntries(
      customers.map((c) => [c.domain, { rows: { shipment: [], document: [], person: [], phone: [] }, poison: [] }]),
    ),
    changes: { party: 0, person: 0, phone: 0, shipment: 0, document: 0, document_domain: 0 },
    races: { documentsBeforeRegistration: 0, phonesBeforePersons: 0 },
    longTransaction: null,
    operations: 0,
  };
}

interface Pending {
  due: number;
  run: () => Promise<void>;
}

/** Runs the operations team for `durationMs`, then finishes what is pending (registrations, persons, the long transaction). */
export async function runSimulator(pool: PoolLike, options: SimulatorOptions): Promise<Ledger> {
  const customers = options.customers ?? DEMO_CUSTOMERS;
  const rnd = prng(options.seed ?? 42);
  const rate = options.rate ?? 20;
  const [raceMin, raceMax] = options.raceDelayMs ?? [200, 1500];
  const ledger = emptyLedger(customers);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const raceDelay = () => raceMin + Math.floor(rnd() * (raceMax - raceMin));
  const pending: Pending[] = [];
  const status = new Map<string, string>();
  const next = { party: 0, person: 0, phone: 0, shipment: 0, document: 0 };
  const id = (k: keyof typeof next) => ++next[k];
  const shipmentNo = (n: number) => `S${String(n).padStart(7, '0')}`;

  const exec = async (db: Queryable, table: string, sql: string, params: unknown[]) => {
    const res = await db.query(sql, params);
    ledger.changes[table] = (ledger.changes[table] ?? 0) + (res.rowCount ?? 0);
  };

  // Each customer gets a party (the customer itself) up front.
  const partyOf = new Map<string, number>();
  for (const c of customers) {
    const p = id('party');
    partyOf.set(c.domain, p);
    await exec(pool, 'party', 'INSERT INTO erp.party ("PARTY_ID", "PARTY_NM", "Z_CUST_CD") VALUES ($1, $2, $3)', [
      p,
      c.domain.toUpperCase(),
      c.code,
    ]);
  }

  const newShipment = async (db: Queryable, c: Customer, stat = '10') => {
    const no = shipmentNo(id('shipment'));
    const amount = (Math.floor(rnd() * 1_000_000) / 100).toFixed(2);
    await exec(
      db,
      'shipment',
      'INSERT INTO erp.shipment ("SHPMT_NO", "Z_CUST_CD", "STAT_CD", "NET_AMT", "WGT_KG", "REMARK") VALUES ($1, $2, $3, $4, $5, $6)',
      [no, c.code, stat, amount, (rnd() * 900 + 1).toFixed(3), rnd() < 0.3 ? '   ' : 'handle with care'],
    );
    return no;
  };

  const operations: Array<[number, () => Promise<void>]> = [
    [
      3,
      async () => {
        const c = pick(customers);
        const no = await newShipment(pool, c);
        status.set(no, '10');
        ledger.customers[c.domain]!.rows.shipment.push(no);
      },
    ],
    [
      3,
      async () => {
        const open = [...status].filter(([, s]) => s !== STATUS_FLOW.at(-1));
        if (open.length === 0) return;
        const [no, s] = pick(open);
        const to = STATUS_FLOW[STATUS_FLOW.indexOf(s) + 1]!;
        status.set(no, to);
        await exec(
          pool,
          'shipment',
          'UPDATE erp.shipment SET "STAT_CD" = $2, "dtUpdt" = clock_timestamp() WHERE "SHPMT_NO" = $1',
          [no, to],
        );
      },
    ],
    [
      2,
      async () => {
        // A document written before it is registered to its customer's domain.
        const c = pick(customers);
        const shipments = ledger.customers[c.domain]!.rows.shipment;
        if (shipments.length === 0) return;
        const doc = id('document');
        await exec(
          pool,
          'document',
          'INSERT INTO erp.document ("DOC_ID", "SHPMT_NO", "DOC_TYP", "Z_CUST_CD", "DOC_REF") VALUES ($1, $2, $3, $4, $5)',
          [doc, pick(shipments), pick(['INV', 'POD', 'CMR']), c.code, `REF-${doc}`],
        );
        ledger.races.documentsBeforeRegistration++;
        ledger.customers[c.domain]!.rows.document.push(String(doc));
        pending.push({
          due: Date.now() + raceDelay(),
          run: async () => {
            if (rnd() < 0.5) {
              // Changed again before anyone registered it.
              await exec(
                pool,
                'document',
                'UPDATE erp.document SET "DOC_REF" = $2, "dtUpdt" = clock_timestamp() WHERE "DOC_ID" = $1',
                [doc, `REF-${doc}-v2`],
              );
            }
            await exec(
              pool,
              'document_domain',
              'INSERT INTO erp.document_domain ("DOC_ID", "DOMAIN") VALUES ($1, $2)',
              [doc, c.domain],
            );
          },
        });
      },
    ],
    [
      2,
      async () => {
        // A phone saved before its person.
        const c = pick(customers);
        const person = id('person');
        const phone = id('phone');
        await exec(
          pool,
          'phone',
          'INSERT INTO erp.phone ("PHONE_ID", "PERS_ID", "PHONE_NO", "Z_CUST_CD") VALUES ($1, $2, $3, $4)',
          [phone, person, `+49 30 ${100000 + phone}`, c.code],
        );
        ledger.races.phonesBeforePersons++;
        const rows = ledger.customers[c.domain]!.rows;
        rows.phone.push(String(phone));
        rows.person.push(String(person));
        pending.push({
          due: Date.now() + raceDelay(),
          run: () =>
            exec(
              pool,
              'person',
              'INSERT INTO erp.person ("PERS_ID", "PARTY_ID", "FIRST_NM", "LAST_NM", "Z_CUST_CD") VALUES ($1, $2, $3, $4, $5)',
              [person, partyOf.get(c.domain), pick(['Ada', 'Grace', 'Alan', 'Edsger']), `Person ${person}`, c.code],
            ),
        });
      },
    ],
  ];
  const totalWeight = operations.reduce((n, [w]) => n + w, 0);
  const chooseOperation = () => {
    let r = rnd() * totalWeight;
    for (const [w, op] of operations) if ((r -= w) < 0) return op;
    return operations[0]![1];
  };

  const runDue = async (all = false) => {
    pending.sort((a, b) => a.due - b.due);
    while (pending.length > 0 && (all || pending[0]!.due <= Date.now())) await pending.shift()!.run();
  };

  // The long transaction: opened early, writes rows, and commits only after others committed meanwhile.
  const longMs = options.longTransactionMs ?? Math.min(10_000, Math.floor(options.durationMs / 3));
  const longTx = (async () => {
    await sleep(Math.min(500, options.durationMs / 10), options.signal);
    const client = await pool.connect();
    const c = customers[0]!;
    const opened = Date.now();
    ledger.longTransaction = { openedAt: opened, committedAt: null, heldMs: 0, rows: 0 };
    const counted: Array<[string, number]> = [];
    const local = async (table: string, sql: string, params: unknown[]) => {
      const res = await client.query(sql, params);
      counted.push([table, res.rowCount ?? 0]);
    };
    try {
      await client.query('BEGIN');
      const no = shipmentNo(id('shipment'));
      const doc = id('document');
      await local(
        'shipment',
        'INSERT INTO erp.shipment ("SHPMT_NO", "Z_CUST_CD", "STAT_CD", "NET_AMT", "REMARK") VALUES ($1, $2, $3, $4, $5)',
        [no, c.code, '10', '4711.00', 'booked in a long transaction'],
      );
      await local(
        'document',
        'INSERT INTO erp.document ("DOC_ID", "SHPMT_NO", "DOC_TYP", "Z_CUST_CD") VALUES ($1, $2, $3, $4)',
        [doc, no, 'CMR', c.code],
      );
      await local('document_domain', 'INSERT INTO erp.document_domain ("DOC_ID", "DOMAIN") VALUES ($1, $2)', [
        doc,
        c.domain,
      ]);
      await sleep(longMs, options.signal);
      await client.query('COMMIT');
      for (const [t, n] of counted) ledger.changes[t] = (ledger.changes[t] ?? 0) + n;
      const rows = ledger.customers[c.domain]!.rows;
      rows.shipment.push(no);
      rows.document.push(String(doc));
      ledger.longTransaction = {
        openedAt: opened,
        committedAt: Date.now(),
        heldMs: Date.now() - opened,
        rows: counted.length,
      };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  })();

  const deadline = ledger.startedAt + options.durationMs;
  let poisonWritten = !(options.poison ?? true);
  try {
    while (Date.now() < deadline && !options.signal?.aborted) {
      const started = Date.now();
      if (!poisonWritten && started > ledger.startedAt + options.durationMs / 2) {
        const c = customers[customers.length - 1]!;
        const no = await newShipment(pool, c, POISON_STATUS);
        ledger.customers[c.domain]!.poison.push({
          entity: 'shipment',
          id: no,
          reason: `STAT_CD ${POISON_STATUS} is not in the shipment_status translation table`,
        });
        poisonWritten = true;
      } else {
        await chooseOperation()();
      }
      ledger.operations++;
      await runDue();
      options.onProgress?.(ledger);
      await sleep(Math.max(0, 1000 / rate - (Date.now() - started)), options.signal);
    }
  } finally {
    // Whatever was started is finished, so every origin row is complete and deliverable.
    await longTx;
    await runDue(true);
  }
  ledger.finishedAt = Date.now();
  options.onProgress?.(ledger);
  return ledger;
}

export interface LedgerCheck {
  ok: boolean;
  mismatches: string[];
  /** Per customer and entity: rows in the ledger and in the database. */
  counts: Array<{ customer: string; entity: Entity; ledger: number; database: number }>;
}

const ENTITY_SQL: Record<Entity, string> = {
  shipment: `SELECT "SHPMT_NO" AS id FROM erp.shipment WHERE "Z_CUST_CD" = $1 AND "STAT_CD" <> $2`,
  document: `SELECT d."DOC_ID"::text AS id FROM erp.document d JOIN erp.document_domain dd ON dd."DOC_ID" = d."DOC_ID" WHERE d."Z_CUST_CD" = $1 AND $2::text IS NOT NULL`,
  person: `SELECT "PERS_ID"::text AS id FROM erp.person WHERE "Z_CUST_CD" = $1 AND $2::text IS NOT NULL`,
  phone: `SELECT "PHONE_ID"::text AS id FROM erp.phone WHERE "Z_CUST_CD" = $1 AND $2::text IS NOT NULL`,
};

/** Compares the ledger with the ERP's tables and its change table: the origin side of "nothing was lost". */
export async function checkLedger(
  db: Queryable,
  ledger: Ledger,
  customers: readonly Customer[] = DEMO_CUSTOMERS,
): Promise<LedgerCheck> {
  const mismatches: string[] = [];
  const counts: LedgerCheck['counts'] = [];
  for (const c of customers) {
    const cl = ledger.customers[c.domain]!;
    for (const entity of ENTITIES) {
      const rows = (await db.query(ENTITY_SQL[entity], [c.code, POISON_STATUS])).rows.map((r) => String(r.id));
      const expected = new Set(cl.rows[entity]);
      counts.push({ customer: c.domain, entity, ledger: expected.size, database: rows.length });
      const missing = [...expected].filter((x) => !rows.includes(x));
      const extra = rows.filter((x) => !expected.has(x));
      if (missing.length > 0)
        mismatches.push(`${c.domain} ${entity}: in the ledger but not in the ERP: ${missing.slice(0, 5).join(', ')}`);
      if (extra.length > 0)
        mismatches.push(`${c.domain} ${entity}: in the ERP but not in the ledger: ${extra.slice(0, 5).join(', ')}`);
    }
  }
  const changeRows = await db.query('SELECT table_name, count(*)::int AS n FROM erp.change_log GROUP BY table_name');
  const captured = new Map(changeRows.rows.map((r) => [String(r.table_name), Number(r.n)]));
  for (const [table, n] of Object.entries(ledger.changes)) {
    const got = captured.get(`erp.${table}`) ?? 0;
    if (got !== n) mismatches.push(`change table: ${got} changes of erp.${table}, the ledger wrote ${n}`);
  }
  return { ok: mismatches.length === 0, mismatches, counts };
}

/**
 * The ERP-like table the source benches capture (15 columns of the types an ERP row carries) and the SQL that
 * fills it: one definition, so figures of bench/source, bench/drain and bench/erp-events describe the same rows.
 */
export const COLUMNS = `id bigint PRIMARY KEY, ref varchar(40) NOT NULL, customer_id integer, amount numeric(19,4),
  weight numeric(12,3), qty integer, status varchar(20), note text, created_at timestamp(6), updated_at timestamptz,
  due date, priority smallint, active boolean, tracking uuid, payload jsonb`;

/** Rows `from`..`to` (numbers, or SQL expressions such as a bind parameter). */
export const ROW_SQL = (from: number | string, to: number | string) => `SELECT g, 'REF-' || g, g % 1000,
  (g * 1.2345)::numeric(19,4), g % 500, g % 7, 'st' || (g % 5), md5(g::text), clock_timestamp(), clock_timestamp(),
  current_date, (g % 3)::smallint, g % 2 = 0, gen_random_uuid(), jsonb_build_object('g', g)
  FROM generate_series(${from}, ${to}) g`;

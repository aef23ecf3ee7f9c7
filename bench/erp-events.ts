/**
 * ErpSource event path without Kafka (issue 18): PostgreSQL base rows read by key (the dialect's own readRows),
 * Debezium events built as the task builds them, then the worker's conversion (JSON key and value without schemas,
 * simple headers). Every round runs both ways of building and writing an event, interleaved, on the same rows:
 * - structs: changeEvent + rowStruct, the value written from its Struct (the path with transforms, or any converter);
 * - values: changeEventValues + rowValues, the value written from its StructValues (no transforms, JSON converter).
 * It checks that both give the same bytes, and prints CPU µs per event of each stage: CPU time, not wall time, so
 * the figures hold up on a loaded machine.
 *
 *   BENCH_RECORDS=8192 BENCH_ROUNDS=20 node --max-semi-space-size=8 --import tsx bench/erp-events.ts
 *
 * Needs PG_URL (`eval "$(scripts/stack env)"`).
 */
import os from 'node:os';
import { type SourceRecord, structValuesOf } from '../runtime/api/index.js';
import { JsonConverter, SimpleHeaderConverter } from '../runtime/converters/index.js';
import { headersToRaw } from '../runtime/worker/task-context.js';
import { PostgresDialect } from '../connectors/erp-source/dialects/postgres.js';
import {
  type EventInput,
  buildTableSchemas,
  canonicalKey,
  changeEvent,
  changeEventValues,
  keyOnlyRow,
  keyOnlyValues,
  keyStruct,
  rowStruct,
  rowValues,
} from '../connectors/erp-source/envelope.js';
import type { RawRow } from '../connectors/erp-source/model.js';
import { COLUMNS, ROW_SQL } from './erp-rows.js';

const url = process.env.PG_URL;
if (!url) throw new Error('PG_URL is not set: eval "$(scripts/stack env)"');
const n = Number(process.env.BENCH_RECORDS ?? 8192);
const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
const warmup = 3;
const dialect = new PostgresDialect({ url, user: null, password: null });
await dialect.connect();
const schema = `h_src_events_${Date.now().toString(36)}`;
await dialect.run(`CREATE SCHEMA ${schema}`, [], 'setup');
try {
  await dialect.run(`CREATE TABLE ${schema}.t (${COLUMNS})`, [], 'setup');
  await dialect.run(`INSERT INTO ${schema}.t ${ROW_SQL(1, n)}`, [], 'setup');
  const info = await dialect.describe({ schema, table: 't' });
  const schemas = buildTableSchemas('bench', info);
  const keys = Array.from({ length: n }, (_, i) => [String(i + 1)]);
  const conv = (isKey: boolean) => {
    const c = new JsonConverter();
    c.configure({ 'schemas.enable': 'false' }, isKey);
    return c;
  };
  const key = conv(true);
  const value = conv(false);
  const header = new SimpleHeaderConverter();
  header.configure({});
  const partition = Object.freeze({ table: `${schema}.t` });
  const cpu = { read: 0, structs: 0, values: 0 };
  let bytes = 0;
  const usedSince = (c0: NodeJS.CpuUsage) => {
    const c = process.cpuUsage(c0);
    return c.user + c.system;
  };

  /** One batch's events, built one way or the other; every 50th key's row is gone (a delete and its `before`). */
  const build = (byKey: Map<string, RawRow>, values: boolean, now: number): SourceRecord[] => {
    const records: SourceRecord[] = [];
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      const row = i % 50 === 49 ? undefined : byKey.get(canonicalKey(schemas, k));
      const op = row ? 'u' : 'd';
      const version = String(1000 + i);
      const common: Omit<EventInput, 'before' | 'after'> = {
        schemas,
        db: 'erp',
        prefix: 'bench',
        op,
        key: keyStruct(schemas, k),
        version,
        eventId: `erp:${schema}.t:${version}`,
        sourceTsMs: now,
        snapshot: 'false',
        changeSeq: BigInt(1000 + i),
        txId: 77n,
        partition,
        offset: { stream: { kind: 'gaps', seq: version, gaps: [] } },
        nowMs: now,
      };
      records.push(
        values
          ? changeEventValues({
              ...common,
              before: op === 'd' ? keyOnlyValues(schemas, k) : null,
              after: row ? rowValues(schemas, row) : null,
            })
          : changeEvent({
              ...common,
              before: op === 'd' ? keyOnlyRow(schemas, k) : null,
              after: row ? rowStruct(schemas, row) : null,
            }),
      );
    }
    return records;
  };

  /** What the worker does per record, and keeps of the batch until Kafka acknowledged it. */
  const convert = (records: SourceRecord[]) => {
    const out: Array<[Buffer | null, Buffer | null, unknown]> = [];
    for (const r of records) {
      const h = headersToRaw(r.topic, r.headers, header);
      const kb = key.fromConnectDataSync(r.topic, r.headers, r.keySchema, r.key);
      const vb = value.fromConnectDataSync(r.topic, r.headers, r.valueSchema, structValuesOf(r) ?? r.value);
      out.push([kb, vb, h]);
    }
    return out;
  };

  for (let round = 0; round < rounds; round++) {
    const measured = round >= warmup;
    let c0 = process.cpuUsage();
    const rows = await dialect.readRows(info, keys);
    const byKey = new Map(rows.map((r) => [canonicalKey(schemas, [r.id]), r]));
    if (measured) cpu.read += usedSince(c0);
    // Alternate which goes first, so neither always runs right after the read's garbage.
    const now = Date.now();
    const order = round % 2 === 0 ? [false, true] : [true, false];
    const outs: Record<string, Array<[Buffer | null, Buffer | null, unknown]>> = {};
    for (const values of order) {
      c0 = process.cpuUsage();
      outs[String(values)] = convert(build(byKey, values, now));
      if (measured) cpu[values ? 'values' : 'structs'] += usedSince(c0);
    }
    const [a, b] = [outs.false!, outs.true!];
    for (let i = 0; i < n; i++) {
      if (!a[i]![0]!.equals(b[i]![0]!) || !a[i]![1]!.equals(b[i]![1]!)) {
        throw new Error(`event ${i}: the two paths wrote different bytes:\n${a[i]![1]}\n${b[i]![1]}`);
      }
      if (measured) bytes += a[i]![0]!.length + a[i]![1]!.length;
    }
  }
  const events = n * (rounds - warmup);
  const per = (us: number) => Number((us / events).toFixed(2));
  const result = {
    bench: 'erp-events',
    events,
    read_us: per(cpu.read),
    structs_build_convert_us: per(cpu.structs),
    values_build_convert_us: per(cpu.values),
    bytes_per_event: Math.round(bytes / events),
    load: os.loadavg().map((l) => Number(l.toFixed(2))),
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await dialect.run(`DROP SCHEMA ${schema} CASCADE`, [], 'cleanup');
  await dialect.close();
}

import type { Command } from 'commander';
import { addConnectOptions, connectClient, writeResult } from '../connect/command-kit.js';
import type { CliContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { type Style, renderTable } from '../output.js';

export const TRACE_DESCRIPTION =
  'follow one business key: origin, source events, parked, per-customer deliveries, DLQ entries';

/** The worker's answer (GET /erpstream/v1/lineage; docs/console-api.md). */
export interface Lineage {
  key: string;
  entityId: string;
  origin: { entity: string; exists: boolean; version: string | null; committedAt: string | null };
  sourceEvents: Array<Record<string, unknown>>;
  parked: Array<Record<string, unknown>>;
  deliveries: Array<Record<string, unknown>>;
  dlq: Array<Record<string, unknown> & { error?: { stage?: string | null; message?: string | null } | null }>;
  scanned: { perPartition: number; complete: boolean };
}

/** Whether the answer knows anything about the key: a row at the origin, an event, a park row, a delivery, a DLQ entry. */
export function found(l: Lineage): boolean {
  return l.origin.exists || [l.sourceEvents, l.parked, l.deliveries, l.dlq].some((x) => x.length > 0);
}

/**
 * `erpstream trace <key>`: asks the worker (GET /erpstream/v1/lineage), which reads the connectors' ledgers, park
 * tables and topics with their own credentials; the CLI never sees them. Exit codes as every command: 0 the key
 * was traced, 1 nothing anywhere knows it (or a worker error), 2 invalid input, 3 the worker cannot be reached.
 */
export function registerTraceCommand(program: Command, ctx: CliContext): void {
  addConnectOptions(
    program
      .command('trace <key>')
      .description(TRACE_DESCRIPTION)
      .option('--entity <name>', 'the entity (entity.name of the sinks), when several are delivered')
      .option('--customer <name>', "only this customer's connectors (the integration's metadata.name)")
      .option('--connector <name>', 'only this connector')
      .option('--scan <n>', 'records read back per topic partition for events, offsets and DLQ entries', '1000'),
  ).action(
    async (
      key: string,
      opts: { entity?: string; customer?: string; connector?: string; scan: string },
      cmd: Command,
    ) => {
      if (!/^\d{1,6}$/.test(opts.scan) || Number(opts.scan) < 1 || Number(opts.scan) > 100_000) {
        throw CliError.invalidInput(`Invalid --scan ${JSON.stringify(opts.scan)}.`, 'Give 1 to 100000.');
      }
      const client = await connectClient(ctx, cmd);
      const res = await client.request<Lineage>('GET', '/erpstream/v1/lineage', {
        query: {
          key,
          scan: opts.scan,
          ...(opts.entity !== undefined ? { entity: opts.entity } : {}),
          ...(opts.customer !== undefined ? { customer: opts.customer } : {}),
          ...(opts.connector !== undefined ? { connector: opts.connector } : {}),
        },
      });
      const lineage = res.body;
      writeResult(ctx, lineage, (style) => renderLineage(lineage, style));
      if (!found(lineage)) {
        throw new CliError(`No trace of ${lineage.origin.entity} ${key}.`, {
          exitCode: ExitCode.FAILURE,
          hint:
            'The origin has no such row and no sink has seen it in the last ' +
            `${lineage.scanned.perPartition} records per partition (--scan reads further back).`,
        });
      }
    },
  );
}

const text = (v: unknown): string => (v === null || v === undefined ? '-' : String(v));

export function renderLineage(l: Lineage, style: Style): string {
  const out: string[] = [];
  const o = l.origin;
  out.push(
    `${style.bold(`${o.entity} ${l.entityId}`)}: ${
      o.exists ? `origin version ${text(o.version)}` : style.yellow('no origin row')
    }${o.committedAt ? `, committed ${o.committedAt}` : ''}\n`,
  );
  const section = (title: string, rows: Array<Record<string, unknown>>, columns: string[]) => {
    out.push(`\n${style.bold(title)}${rows.length === 0 ? ' (none)' : ''}\n`);
    if (rows.length > 0) out.push(renderTable(rows, columns, style));
  };
  section('Source events', l.sourceEvents, ['topic', 'partition', 'offset', 'version', 'op', 'timestamp']);
  section(
    'Deliveries',
    l.deliveries.map((d) => ({
      ...d,
      where:
        d.kafkaOffset !== undefined
          ? `partition ${text(d.kafkaPartition)} offset ${text(d.kafkaOffset)}`
          : d.sqlTable !== undefined
            ? `table ${text(d.sqlTable)}`
            : d.httpStatus !== undefined
              ? `HTTP ${text(d.httpStatus)}`
              : '',
      deleted: d.deleted === true ? 'deleted' : '',
    })),
    ['customer', 'connector', 'version', 'target', 'where', 'deleted', 'at'],
  );
  section('Parked', l.parked, ['customer', 'connector', 'version', 'reason', 'firstParkedAt', 'nextCheckAt']);
  section(
    'Dead-letter queue',
    l.dlq.map((d) => ({ ...d, stage: d.error?.stage ?? '', message: d.error?.message ?? '' })),
    ['customer', 'connector', 'topic', 'partition', 'offset', 'stage', 'message'],
  );
  if (!l.scanned.complete) out.push(style.dim('\n(the topics could not all be read back in time: partial answer)\n'));
  return out.join('');
}

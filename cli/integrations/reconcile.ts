import type { Command } from 'commander';
import { RECONCILE_CLASSES, type ReconcileDifference, type ReconcileReport } from '../../runtime/api/reconcile.js';
import { ConnectClient } from '../connect/client.js';
import { type ConnectOptions, writeResult } from '../connect/command-kit.js';
import { type CliContext, styleFor } from '../context.js';
import { resolveConnectTarget } from '../contexts/resolve.js';
import { CliError, ExitCode, classifyError } from '../errors.js';
import { type Style, renderTable } from '../output.js';

/**
 * `erpstream integrations reconcile <customer>`: asks the worker (POST /erpstream/v1/integrations/{c}/reconcile),
 * which holds the connectors' resolved configs and database access; the CLI never sees connection secrets.
 * Exit codes: 0 in sync, 2 not in sync, 1 any error (as `plan --detailed-exitcode`, so 2 means one thing), 3 the
 * worker cannot be reached.
 */

/**
 * Reconciling a large customer takes minutes: without an explicit --timeout the request may take 5 (Node's fetch
 * gives up on an answer whose headers have not come after 5 minutes anyway).
 */
const RECONCILE_TIMEOUT_MS = 5 * 60_000;
const CUSTOMER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export async function reconcileCommand(
  ctx: CliContext,
  cmd: Command,
  customer: string,
  opts: { sample?: string; repair?: boolean },
): Promise<void> {
  try {
    if (!CUSTOMER_NAME.test(customer)) {
      throw new CliError(`Invalid customer name ${JSON.stringify(customer)}.`, {
        exitCode: ExitCode.FAILURE,
        hint: "Give the integration's metadata.name (letters, digits, '.', '_', '-'); `erpstream integrations list` shows them.",
      });
    }
    const sample = opts.sample === undefined ? undefined : Number(opts.sample);
    if (sample !== undefined && (!Number.isInteger(sample) || sample < 0 || sample > 1000)) {
      throw new CliError(`Invalid --sample ${JSON.stringify(opts.sample)}: expected 0 to 1000.`, {
        exitCode: ExitCode.FAILURE,
      });
    }
    const flags = cmd.optsWithGlobals<ConnectOptions>();
    const target = await resolveConnectTarget(flags, ctx.env);
    const client = new ConnectClient({
      url: target.url,
      auth: target.auth,
      timeoutMs: flags.timeout === undefined ? Math.max(target.timeoutMs, RECONCILE_TIMEOUT_MS) : target.timeoutMs,
    });
    const path = `/erpstream/v1/integrations/${encodeURIComponent(customer)}/reconcile`;
    const ask = async (repair: boolean) =>
      (
        await client.request<RepairingReport>('POST', path, {
          body: { ...(repair ? { repair: true } : {}), ...(sample === undefined ? {} : { sample }) },
        })
      ).body;
    const report = await ask(opts.repair === true);
    if (!opts.repair || report.inSync || !report.repair) {
      writeResult(ctx, report, (style) => renderReport(report, style));
      ctx.exitCode = report.inSync ? ExitCode.OK : ExitCode.INVALID_INPUT;
      return;
    }
    // Repair: the differences are queued in the cluster; follow the work, then check again. Interrupted, the same
    // command resumes it (the same differences are the same request).
    if (ctx.output === 'table') ctx.stdout.write(renderReport(report, styleFor(ctx, 'stdout')));
    const { follow } = await import('../commands/integrations-operations.js');
    const repair = report.repair.operationId === null ? null : await follow(ctx, client, report.repair.operationId);
    const after = await ask(false);
    writeResult(ctx, { before: report, repair, after }, (style) => `After the repair:\n${renderReport(after, style)}`);
    if (repair && repair.result !== 'succeeded') {
      throw new CliError(
        `The repair of ${customer} ended ${repair.result}${repair.message ? `: ${repair.message}` : ''}`,
        {
          exitCode: ExitCode.FAILURE,
          hint: 'Run the same command again to resume it; `erpstream integrations operations` shows the history.',
        },
      );
    }
    ctx.exitCode = after.inSync ? ExitCode.OK : ExitCode.INVALID_INPUT;
  } catch (error) {
    // 2 means "not in sync" here: every error that would be 2 elsewhere (invalid input) is 1.
    const c = classifyError(error);
    if (c.exitCode !== ExitCode.INVALID_INPUT) throw error;
    throw new CliError(c.message, { exitCode: ExitCode.FAILURE, hint: c.hint, cause: error });
  }
}

/** The answer with `repair: true`: the report of what was found, and the repair operation it started. */
interface RepairingReport extends ReconcileReport {
  repair?: { operationId: string | null; queued: number } | null;
}

function versions(d: ReconcileDifference): string {
  const v = (x: string | null) => x ?? '-';
  // Without lookup.version.column the origin routes the entity here but has no version: '-' would read as "nothing".
  const origin = d.originVersion ?? (d.shouldHold ? 'unversioned' : '-');
  return `origin ${origin}, ledger ${v(d.ledgerVersion)}, destination ${v(d.destinationVersion)}`;
}

export function renderReport(r: ReconcileReport, style: Style): string {
  const counts = RECONCILE_CLASSES.map((k) => `${k} ${r.counts[k]}`).join(', ');
  const head = r.inSync
    ? `${style.bold(`Customer ${r.customer}: in sync`)} (${counts})\n`
    : `${style.bold(`Customer ${r.customer}:`)} ${style.red('NOT in sync')} (${counts})\n`;
  const rows = r.connectors.map((c) => ({
    connector: c.connector,
    entity: c.entity,
    destination: c.destinationType,
    compared: c.compared.destination ? 'origin+ledger+destination' : 'origin+ledger',
    origin: c.totals.origin,
    missing: c.counts.missing,
    stale: c.counts.stale,
    extra: c.counts.extra,
    drift: c.counts.drift,
    waiting: c.totals.waiting,
  }));
  const table = renderTable(
    rows,
    ['connector', 'entity', 'destination', 'compared', 'origin', 'missing', 'stale', 'extra', 'drift', 'waiting'],
    style,
  );
  const samples = RECONCILE_CLASSES.flatMap((k) =>
    r.samples[k].map(
      (d) =>
        `  ${k.padEnd(7)} ${d.entity} ${d.entityId} → ${d.target || '(nowhere)'} (${versions(d)}) [${d.connector}]\n`,
    ),
  );
  const notes = r.connectors.flatMap((c) => c.notes.map((n) => style.dim(`  note: ${c.connector}: ${n}\n`)));
  return [head, table, samples.length > 0 ? 'Samples:\n' : '', ...samples, ...notes].join('');
}

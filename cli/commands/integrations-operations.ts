import type { Command } from 'commander';
import { ProgressLine } from '../demo/progress.js';
import { addConnectOptions, collect, connectClient, writeResult, writeTable } from '../connect/command-kit.js';
import type { ConnectClient } from '../connect/client.js';
import { ConnectApiError } from '../connect/errors.js';
import type { CliContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';

/**
 * `erpstream integrations replay|redeliver|operations`: re-send one customer's deliveries, re-deliver or withdraw
 * chosen entities, and read the operations audit log. The work runs in the cluster (the connectors' tasks); the CLI
 * starts it and follows it with a progress line, and may be stopped at any time: running the same command again
 * resumes the work instead of starting it over.
 */

/** An audit entry as GET /erpstream/v1/operations answers it. */
export interface OperationView {
  id: string;
  kind: string;
  customer: string | null;
  connector: string | null;
  who: string;
  startedAt: string;
  finishedAt: string | null;
  scope: Record<string, unknown>;
  counts: Record<string, number>;
  result: string;
  message: string | null;
}

interface Started {
  operationId: string | null;
  customer: string;
  queued: number;
  connectors: Array<{ connector: string; requestId: string; resumed: boolean; queued: number; alreadyQueued: number }>;
}

const seg = encodeURIComponent;

function notErpstream(e: unknown): never {
  if (e instanceof ConnectApiError && e.status === 404 && /HTTP 404 Not Found/.test(e.connectMessage)) {
    throw new CliError('This cluster does not serve the erpstream operations API (is it an erpstream worker?).', {
      exitCode: ExitCode.FAILURE,
      hint: 'Replay and the audit log need an erpstream worker; Apache Kafka Connect has no equivalent.',
    });
  }
  throw e;
}

/** `done/total` of an operation's counts, with what happened so far. */
export function progressText(op: OperationView): string {
  const c = op.counts;
  const total = c.total ?? c.queued ?? 0;
  const done = total - (c.pending ?? total);
  const pct = total > 0 ? Math.floor((done * 100) / total) : 100;
  const width = 20;
  const filled = Math.round((pct / 100) * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const parts = ['delivered', 'withdrawn', 'unchanged', 'waiting', 'failed']
    .filter((k) => (c[k] ?? 0) > 0)
    .map((k) => `${k} ${c[k]}`);
  return `${op.kind} ${op.customer ?? ''} ${bar} ${done}/${total} (${pct}%)${parts.length ? ` ${parts.join(', ')}` : ''}`;
}

export async function follow(
  ctx: CliContext,
  client: ConnectClient,
  id: string,
  pollMs = 1000,
): Promise<OperationView> {
  const line = new ProgressLine(ctx.stderr as never, { plainEveryMs: 5000 });
  for (;;) {
    const op = (await client.request<OperationView>('GET', `/erpstream/v1/operations/${seg(id)}`)).body;
    if (op.result !== 'running') {
      line.done(progressText(op));
      return op;
    }
    line.update(progressText(op));
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Prints the started (or finished) operation; exit 1 when it failed. */
async function startAndFollow(
  ctx: CliContext,
  client: ConnectClient,
  path: string,
  body: Record<string, unknown>,
  wait: boolean,
): Promise<void> {
  const started = (await client.request<Started>('POST', path, { body }).catch(notErpstream)).body;
  if (started.connectors.some((c) => c.resumed)) {
    ctx.stderr.write(`Resuming the unfinished ${String(path.split('/').pop())} of ${started.customer}.\n`);
  }
  if (!wait || started.operationId === null) {
    writeResult(
      ctx,
      started,
      () => `Started operation ${started.operationId ?? '-'}: ${started.queued} entities queued\n`,
    );
    return;
  }
  const op = await follow(ctx, client, started.operationId);
  writeResult(
    ctx,
    op,
    () =>
      `Operation ${op.id} ${op.result}: ${Object.entries(op.counts)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}${op.message ? `\n${op.message}` : ''}\n`,
  );
  if (op.result !== 'succeeded') {
    throw new CliError(
      `The ${op.kind} of ${op.customer ?? ''} ended ${op.result}${op.message ? `: ${op.message}` : ''}`,
      {
        exitCode: ExitCode.FAILURE,
        hint: 'Run the same command again to resume it; `erpstream integrations operations` shows the history.',
      },
    );
  }
}

/** The newest operation of each customer, for `integrations list` (absent on clusters without the audit log). */
export async function lastOperations(client: ConnectClient): Promise<Map<string, OperationView>> {
  const out = new Map<string, OperationView>();
  try {
    const { operations } = (
      await client.request<{ operations: OperationView[] }>('GET', '/erpstream/v1/operations', {
        query: { limit: 1000 },
      })
    ).body;
    for (const op of operations) if (op.customer !== null && !out.has(op.customer)) out.set(op.customer, op);
  } catch {
    // Apache Kafka Connect, or an older erpstream: no audit log to show.
  }
  return out;
}

export function describeOperation(op: OperationView | undefined): string {
  if (!op) return '-';
  const when = (op.finishedAt ?? op.startedAt).replace(/\.\d+Z$/, 'Z');
  return `${op.kind} ${op.result} ${when}`;
}

export function registerOperationCommands(group: Command, ctx: CliContext): void {
  addConnectOptions(
    group
      .command('replay')
      .argument('<customer>', 'integration name')
      .requiredOption(
        '--since <time|version>',
        'a delivered version (digits), a duration ago (30m, 2h, 1d) or an ISO time',
      )
      .option('--connector <name>', "only this one of the customer's sinks")
      .option('--no-wait', 'start it and return (follow it with `integrations operations`)'),
  )
    .description("re-send one customer's deliveries since a time or version (e.g. after it restored a backup)")
    .action(async (customer: string, opts: { since: string; connector?: string; wait: boolean }, cmd: Command) => {
      const client = await connectClient(ctx, cmd);
      await startAndFollow(
        ctx,
        client,
        `/erpstream/v1/integrations/${seg(customer)}/replay`,
        { since: opts.since, ...(opts.connector ? { connector: opts.connector } : {}) },
        opts.wait,
      );
    });

  addConnectOptions(
    group
      .command('redeliver')
      .argument('<customer>', 'integration name')
      .requiredOption('--connector <name>', "the customer's sink connector")
      .option('--id <entityId>', 'entity to deliver again at its current version (repeatable)', collect)
      .option(
        '--withdraw <entityId[@target]>',
        'entity to withdraw, optionally from this topic/table (repeatable)',
        collect,
      )
      .option('--no-wait', 'start it and return'),
  )
    .description("re-deliver or withdraw chosen entities for one customer's sink, through its normal pipeline")
    .action(
      async (
        customer: string,
        opts: { connector: string; id?: string[]; withdraw?: string[]; wait: boolean },
        cmd: Command,
      ) => {
        const withdraw = (opts.withdraw ?? []).map((w) => {
          const at = w.lastIndexOf('@');
          return at > 0 ? { entityId: w.slice(0, at), target: w.slice(at + 1) } : w;
        });
        if ((opts.id ?? []).length + withdraw.length === 0) {
          throw CliError.invalidInput('Nothing to re-deliver.', 'Give --id <entityId> and/or --withdraw <entityId>.');
        }
        const client = await connectClient(ctx, cmd);
        await startAndFollow(
          ctx,
          client,
          `/erpstream/v1/integrations/${seg(customer)}/redeliver`,
          { connector: opts.connector, deliver: opts.id ?? [], withdraw },
          opts.wait,
        );
      },
    );

  addConnectOptions(
    group
      .command('operations')
      .argument('[customer]', 'only this integration')
      .option('--kind <kind>', 'reconcile, repair, replay or redrive')
      .option('--limit <n>', 'newest n (default 50)'),
  )
    .description('the operations audit log: who ran which reconcile, repair, replay or redrive, when, and how it ended')
    .action(async (customer: string | undefined, opts: { kind?: string; limit?: string }, cmd: Command) => {
      const client = await connectClient(ctx, cmd);
      const { operations } = (
        await client
          .request<{ operations: OperationView[] }>('GET', '/erpstream/v1/operations', {
            query: { customer, kind: opts.kind, limit: opts.limit },
          })
          .catch(notErpstream)
      ).body;
      writeTable(
        ctx,
        { operations },
        operations.map((o) => ({
          id: o.id,
          kind: o.kind,
          customer: o.customer ?? '-',
          connector: o.connector ?? '-',
          who: o.who,
          started: o.startedAt,
          result: o.result,
          counts: Object.entries(o.counts)
            .filter(([, v]) => v > 0)
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
        })),
        ['id', 'kind', 'customer', 'connector', 'who', 'started', 'result', 'counts'],
      );
    });
}

import {
  type ErrorCode,
  ErpStreamError,
  type RedeliveryAdmin,
  type RedeliveryHook,
  type RedeliveryItem,
  type RedeliveryProgress,
  redeliveryHookOf,
  connectionSecretValues,
  CUSTOMER_CONFIG_KEY,
  customerOf,
  scrubSecrets,
} from '../api/index.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { Herder } from '../worker/herder-types.js';
import type { OperationEntry, OperationsLog } from './audit-log.js';

/**
 * Drives a targeted re-delivery (repair, replay) of one customer: queues the work of each of its connectors through
 * the plugin's re-delivery capability (runtime/api/reconcile.ts), records the operation in the audit log, and
 * follows the connectors' progress until every queued entity is done. The work itself is done by the connectors'
 * running tasks (wherever they run), so this worker may stop meanwhile: the work goes on, and running the same
 * operation again resumes it (the request key) and follows it to the end.
 */

/** A re-delivery the driver refuses or cannot queue; the REST edge answers by its code (runtime/rest/error-status.ts). */
export class RedeliveryError extends ErpStreamError {
  constructor(
    code: 'ERPSTREAM_NOT_FOUND' | 'ERPSTREAM_INVALID_REQUEST' | 'ERPSTREAM_CONFIG' | RedeliveryCode,
    message: string,
  ) {
    super(code, message);
  }
}

type RedeliveryCode = 'ERPSTREAM_REDELIVERY_REFUSED' | 'ERPSTREAM_REDELIVERY_FAILED';

export interface RedeliverableConnector {
  readonly name: string;
  /** Raw config (placeholders unresolved); resolved only to open the capability. */
  readonly config: Record<string, string>;
  readonly hook: RedeliveryHook;
}

/** The customer's connectors that offer re-delivery, in name order. */
export function redeliverableConnectors(
  herder: Herder,
  registry: PluginRegistry,
  customer: string,
): RedeliverableConnector[] {
  const mine = herder
    .connectors()
    .sort()
    .map((name) => ({ name, config: herder.connectorConfig(name) }))
    .filter((c) => customerOf(c.name, c.config) === customer);
  if (mine.length === 0) {
    throw new RedeliveryError(
      'ERPSTREAM_NOT_FOUND',
      `No connector belongs to customer ${customer} (connectors carry it in ${CUSTOMER_CONFIG_KEY})`,
    );
  }
  const out = mine.flatMap((c) => {
    const hook = redeliveryHookOf(registry.find('sink', (c.config['connector.class'] ?? '').trim()));
    return hook ? [{ ...c, hook }] : [];
  });
  if (out.length === 0) {
    throw new RedeliveryError(
      'ERPSTREAM_INVALID_REQUEST',
      `Customer ${customer} has no connector that can re-deliver (${mine.map((c) => c.name).join(', ')}): only ` +
        'LookupSink connectors know what they delivered',
    );
  }
  return out;
}

/** What to queue for one connector, given its opened capability. */
export interface ConnectorWork {
  readonly connector: RedeliverableConnector;
  /** Same key → an unfinished request is resumed instead of queued again. */
  readonly requestKey: string;
  items(admin: RedeliveryAdmin): AsyncIterable<readonly RedeliveryItem[]> | Iterable<readonly RedeliveryItem[]>;
}

export interface RedeliveryRun {
  readonly operation: OperationEntry | null;
  readonly requests: ReadonlyArray<{
    connector: string;
    requestId: string;
    resumed: boolean;
    queued: number;
    alreadyQueued: number;
  }>;
  /** Resolves when every request is done (or the run gave up); the audit entry is finished by then. */
  readonly done: Promise<RedeliveryTotals>;
}

export interface RedeliveryTotals {
  total: number;
  pending: number;
  delivered: number;
  withdrawn: number;
  unchanged: number;
  waiting: number;
  failed: number;
}

export interface RedeliveryOptions {
  herder: Herder;
  operations: OperationsLog | undefined;
  kind: 'repair' | 'replay';
  customer: string;
  who: string;
  scope: Record<string, unknown>;
  work: readonly ConnectorWork[];
  /** How often progress is read (default 1 s). */
  pollMs?: number;
  /** Give up (result failed) when nothing moved for this long: a stopped or failing connector (default 10 min). */
  stallMs?: number;
}

function sum(list: readonly RedeliveryProgress[]): RedeliveryTotals {
  const t: RedeliveryTotals = { total: 0, pending: 0, delivered: 0, withdrawn: 0, unchanged: 0, waiting: 0, failed: 0 };
  for (const p of list) {
    t.total += p.total;
    t.pending += p.pending;
    t.delivered += p.delivered;
    t.withdrawn += p.withdrawn;
    t.unchanged += p.unchanged;
    t.waiting += p.waiting;
    t.failed += p.failed;
  }
  return t;
}

function refusalError(connector: string, refusal: { code: ErrorCode; message: string }): RedeliveryError {
  return new RedeliveryError(
    'ERPSTREAM_REDELIVERY_REFUSED',
    `Connector ${connector}: ${refusal.message} (${refusal.code})`,
  );
}

/**
 * Throws the refusal of the first connector that must not re-deliver (a 400 RedeliveryError), so a caller with
 * expensive work before the re-delivery (reconcile --repair) fails before doing it. startRedelivery checks again.
 */
export async function checkRedeliverable(herder: Herder, connectors: readonly RedeliverableConnector[]): Promise<void> {
  const services = herder.services?.();
  if (!services) return;
  for (const c of connectors) {
    const config = await services.resolveConfig(c.config);
    let admin: RedeliveryAdmin;
    try {
      admin = await c.hook({ connector: c.name, config });
    } catch {
      continue; // startRedelivery reports a connector that cannot be opened, with its status
    }
    const refusal = admin.refusal ?? null;
    await admin.close().catch(() => {});
    if (refusal) throw refusalError(c.name, refusal);
  }
}

/**
 * Queues the work of every connector (returns once it is queued, with the audit entry) and follows it in the
 * background. A failure while queueing fails the audit entry and is thrown.
 */
export async function startRedelivery(o: RedeliveryOptions): Promise<RedeliveryRun> {
  const services = o.herder.services?.();
  if (!services)
    throw new RedeliveryError(
      'ERPSTREAM_REDELIVERY_FAILED',
      'This worker cannot run plugin capabilities (no services)',
    );
  const op = o.operations
    ? await o.operations.begin({
        kind: o.kind,
        customer: o.customer,
        connector: o.work.length === 1 ? o.work[0]!.connector.name : null,
        who: o.who,
        scope: { ...o.scope, connectors: o.work.map((w) => w.connector.name) },
      })
    : null;
  const opened: Array<{ admin: RedeliveryAdmin; requestId: string }> = [];
  const requests: Array<RedeliveryRun['requests'][number]> = [];
  const admins: Array<{ w: ConnectorWork; admin: RedeliveryAdmin; config: Record<string, string> }> = [];
  try {
    // Every connector is opened and asked first: one that refuses (its config makes a re-delivery unsafe) fails the
    // operation before anything is queued for the others. 400, not 409: clients retry a 409 (a rebalance), and
    // this answer only changes when the connector's config does.
    for (const w of o.work) {
      const config = await services.resolveConfig(w.connector.config);
      let admin: RedeliveryAdmin;
      try {
        admin = await w.connector.hook({ connector: w.connector.name, config });
      } catch (e) {
        throw new RedeliveryError(
          (e as { code?: unknown }).code === 'ERPSTREAM_CONFIG' ? 'ERPSTREAM_CONFIG' : 'ERPSTREAM_REDELIVERY_FAILED',
          scrubSecrets(`Connector ${w.connector.name}: ${(e as Error).message}`, connectionSecretValues(config)),
        );
      }
      admins.push({ w, admin, config });
      if (admin.refusal) throw refusalError(w.connector.name, admin.refusal);
    }
    for (const { w, admin, config } of admins) {
      try {
        const r = await admin.submit({ requestKey: w.requestKey, operationId: op?.id ?? null, items: w.items(admin) });
        opened.push({ admin, requestId: r.requestId });
        requests.push({ connector: w.connector.name, ...r });
      } catch (e) {
        throw new RedeliveryError(
          'ERPSTREAM_REDELIVERY_FAILED',
          scrubSecrets(`Connector ${w.connector.name}: ${(e as Error).message}`, connectionSecretValues(config)),
        );
      }
    }
  } catch (e) {
    await Promise.all(admins.map((x) => x.admin.close().catch(() => {})));
    if (op && o.operations) {
      await o.operations.finish(op.id, { result: 'failed', message: (e as Error).message }).catch(() => {});
    }
    throw e;
  }
  const queued = requests.reduce((n, r) => n + r.queued, 0);
  const resumed = requests.some((r) => r.resumed);
  const operation =
    op && o.operations
      ? await o.operations.progress(
          op.id,
          { queued, alreadyQueued: requests.reduce((n, r) => n + r.alreadyQueued, 0) },
          {
            requests: requests.map((r) => ({ connector: r.connector, requestId: r.requestId, resumed: r.resumed })),
            ...(resumed ? { resumed: true } : {}),
          },
        )
      : null;
  const done = follow(o, operation, opened);
  // The caller may not wait: a failure is already in the audit entry.
  done.catch(() => {});
  return { operation, requests, done };
}

async function follow(
  o: RedeliveryOptions,
  op: OperationEntry | null,
  opened: ReadonlyArray<{ admin: RedeliveryAdmin; requestId: string }>,
): Promise<RedeliveryTotals> {
  const pollMs = o.pollMs ?? 1000;
  const stallMs = o.stallMs ?? 600_000;
  let last = '';
  let movedAt = Date.now();
  try {
    for (;;) {
      const totals = sum(await Promise.all(opened.map((x) => x.admin.progress(x.requestId))));
      const key = JSON.stringify(totals);
      const counts = { ...totals } as unknown as Record<string, number>;
      if (key !== last) {
        last = key;
        movedAt = Date.now();
        if (op && o.operations) await o.operations.progress(op.id, counts).catch(() => {});
      }
      if (totals.pending === 0) {
        if (op && o.operations) {
          await o.operations.finish(op.id, {
            result: totals.failed > 0 ? 'failed' : 'succeeded',
            counts,
            message: totals.failed > 0 ? `${totals.failed} entities could not be re-delivered (see the DLQ)` : null,
          });
        }
        return totals;
      }
      if (Date.now() - movedAt > stallMs) {
        if (op && o.operations) {
          await o.operations.finish(op.id, {
            result: 'failed',
            counts,
            message:
              `No progress for ${Math.round(stallMs / 1000)} s with ${totals.pending} entities pending: is the ` +
              'connector running? The work stays queued; run the operation again to follow it.',
          });
        }
        return totals;
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } catch (e) {
    if (op && o.operations) {
      await o.operations.finish(op.id, { result: 'failed', message: (e as Error).message }).catch(() => {});
    }
    throw e;
  } finally {
    await Promise.all(opened.map((x) => x.admin.close().catch(() => {})));
  }
}

import { ErpStreamError } from '../api/index.js';
import type { TaskStateEntry } from '../worker/herder-types.js';
import { HttpError } from './http-error.js';
import { httpStatusOf } from './error-status.js';
import type { OpsServices } from './ops.js';
import type { Route, RouteContext, RouteResult } from './routes.js';
import { lineage } from './console-lineage.js';
import { browseDlq } from './console-dlq.js';
import { redrive } from './console-redrive.js';
import { inspectOrFail, intParam, parkedView, scopedConnectors, textParam } from './console-common.js';

/**
 * The operations endpoints under /erpstream/v1 (docs/console-api.md): per-customer counts, parked records, the
 * dead-letter queue with redrive, and record lineage. Same listener, auth and error shape as the Connect API.
 */

const JSON_TYPE = 'application/json';

function opsRoute(
  method: string,
  path: string,
  handler: (ctx: RouteContext, ops: OpsServices) => Promise<unknown>,
  body = false,
): Route {
  return {
    method,
    segments: path.split('/').filter((s) => s !== ''),
    body,
    produces: JSON_TYPE,
    async handler(ctx: RouteContext): Promise<RouteResult> {
      const ops = ctx.ops;
      if (!ops) throw new HttpError(404, 'HTTP 404 Not Found');
      try {
        return { status: 200, body: await handler(ctx, ops) };
      } catch (e) {
        throw asHttpError(e, ops);
      }
    },
  };
}

/** Bad input is a 400 naming it; a connector or customer that does not exist a 404; a backend's failure a 502. */
function asHttpError(e: unknown, ops: OpsServices): unknown {
  if (e instanceof HttpError) return new HttpError(e.status, ops.scrub(e.message));
  const mapped = httpStatusOf(e);
  if (mapped !== undefined) return new HttpError(mapped, ops.scrub((e as Error).message));
  if (e instanceof ErpStreamError && (e.code === 'ERPSTREAM_DATA' || e.code === 'ERPSTREAM_CONFIG')) {
    return new HttpError(400, ops.scrub(e.message));
  }
  const message = ops.scrub(e instanceof Error ? e.message : String(e));
  // A bug of ours stays a 500 (the server logs it); anything else is a database or broker the connector uses that
  // did not answer as expected: not this worker's fault, and never with its secrets.
  const internal = e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError;
  return new HttpError(internal ? 500 : 502, message);
}

// ---- customers --------------------------------------------------------------------------------------------

const STATS_TIMEOUT_MS = 3000;

/** The promise's value, or a rejection after `ms`. */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ErpStreamError('ERPSTREAM_TIMEOUT', `no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * A task's progress, from this worker or (distributed) from the worker running it: undefined when the task reports
 * none, null when the worker running it did not answer.
 */
async function progressOf(
  ctx: RouteContext,
  ops: OpsServices,
  connector: string,
  t: TaskStateEntry,
): Promise<Record<string, unknown> | undefined | null> {
  // A task that moved to another worker may have left its last report here: the owner's is the current one.
  if (t.worker_id === ctx.herder.workerId || t.worker_id === '' || t.state !== 'RUNNING') return t.progress;
  try {
    const headers: Record<string, string> = { accept: JSON_TYPE };
    const auth = ops.peerAuthorization;
    if (auth) headers.authorization = auth;
    const url = `${ops.o.protocol}://${t.worker_id}/connectors/${encodeURIComponent(connector)}/tasks/${t.id}/status`;
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
    if (!res.ok) return null;
    const body = (await res.json()) as { progress?: Record<string, unknown> };
    return body.progress;
  } catch {
    return null;
  }
}

interface CustomerCounts {
  customer: string;
  connectors: string[];
  delivered: number;
  waiting: number;
  parked: number;
  staleDropped: number;
  dlq: number;
  tasks: number;
  tasksUnreported: number;
}

async function customers(ctx: RouteContext, ops: OpsServices): Promise<CustomerCounts[]> {
  const customer = textParam(ctx.query.get('customer'), 'customer');
  const scoped = scopedConnectors(ctx, ops, { connector: null, customer });
  const by = new Map<string, CustomerCounts>();
  await Promise.all(
    scoped.map(async (c) => {
      let status;
      try {
        status = ctx.herder.connectorStatus(c.name);
      } catch {
        return;
      }
      const progress = await Promise.all(status.tasks.map((t) => progressOf(ctx, ops, c.name, t)));
      const e =
        by.get(c.customer) ??
        ({
          customer: c.customer,
          connectors: [],
          delivered: 0,
          waiting: 0,
          parked: 0,
          staleDropped: 0,
          dlq: 0,
          tasks: 0,
          tasksUnreported: 0,
        } satisfies CustomerCounts);
      by.set(c.customer, e);
      e.connectors.push(c.name);
      e.tasks += status.tasks.length;
      let parked = 0;
      let waiting = 0;
      for (const p of progress) {
        if (p === null) {
          e.tasksUnreported++; // its worker did not answer
          continue;
        }
        if (p === undefined) continue; // a task that reports no figures (not a LookupSink, not started yet)
        e.delivered += num(p.delivered);
        e.staleDropped += num(p.staleDropped);
        const dlq = p.dlq;
        if (dlq && typeof dlq === 'object') for (const v of Object.values(dlq)) e.dlq += num(v);
        // Every task reports the whole (destination, entity) park: the largest report, not the sum.
        parked = Math.max(parked, num(p.parked));
        waiting = Math.max(waiting, num(p.waiting));
      }
      // The park table is the exact, cluster-wide figure when the connector can be inspected.
      const inspected = ops.inspectable(c.config) ? await ops.inspect(c.name, c.config).catch(() => null) : null;
      // Bounded: an unreachable park database must not hold up the whole overview (the tasks' figures stand in).
      const stats = inspected ? await within(STATS_TIMEOUT_MS, inspected.admin.parkedStats()).catch(() => null) : null;
      e.parked += stats ? stats.parked : parked;
      e.waiting += stats ? stats.waiting : waiting;
    }),
  );
  return [...by.values()]
    .map((e) => ({ ...e, connectors: e.connectors.sort() }))
    .sort((a, b) => a.customer.localeCompare(b.customer));
}

// ---- parked -----------------------------------------------------------------------------------------------

async function parked(ctx: RouteContext, ops: OpsServices) {
  const limit = intParam(ctx.query, 'limit', 100, 1, 10_000);
  const connector = textParam(ctx.query.get('connector'), 'connector');
  const customer = textParam(ctx.query.get('customer'), 'customer');
  const scoped = scopedConnectors(ctx, ops, { connector, customer });
  const errors: Array<{ connector: string; message: string }> = [];
  const lists = await Promise.all(
    scoped.map(async (c) => {
      // One named connector: its failure is the answer. A listing: a connector that cannot be read is reported
      // next to the records of the others.
      try {
        const i =
          connector !== null ? await inspectOrFail(ops, c, 'parked records') : await ops.inspect(c.name, c.config);
        if (!i) return [];
        try {
          return (await i.admin.parked({ limit })).map((p) => parkedView(c, i.admin, p));
        } catch (e) {
          throw new HttpError(502, `Reading the parked records of ${c.name} failed: ${i.scrub(messageOf(e))}`);
        }
      } catch (e) {
        if (connector !== null) throw e;
        errors.push({ connector: c.name, message: ops.scrub(messageOf(e)) });
        return [];
      }
    }),
  );
  const records = lists
    .flat()
    .sort(
      (a, b) => (a.firstParkedAt ?? '').localeCompare(b.firstParkedAt ?? '') || a.entityId.localeCompare(b.entityId),
    )
    .slice(0, limit);
  return { records, ...(errors.length > 0 ? { errors } : {}) };
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export const consoleRoutes: Route[] = [
  opsRoute('GET', '/erpstream/v1/customers', customers),
  opsRoute('GET', '/erpstream/v1/parked', parked),
  opsRoute('GET', '/erpstream/v1/dlq', browseDlq),
  opsRoute('POST', '/erpstream/v1/dlq/redrive', redrive, true),
  opsRoute('GET', '/erpstream/v1/lineage', lineage),
];

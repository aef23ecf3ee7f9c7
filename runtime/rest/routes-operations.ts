import { OPERATION_KINDS, type OperationKind, type OperationsLog } from '../operations/audit-log.js';
import { HttpError } from './http-error.js';
import type { Route, RouteContext, RouteResult } from './routes.js';

/**
 * The operations audit log over REST: `GET /erpstream/v1/operations?customer=&connector=&kind=&limit=` (newest first)
 * and `GET /erpstream/v1/operations/{id}`. Replay and targeted re-delivery join this module.
 */

const PREFIX = ['erpstream', 'v1'];

function erpRoute(method: string, path: string, handler: Route['handler'], body = false): Route {
  return {
    method,
    segments: [...PREFIX, ...path.split('/').filter((s) => s !== '')],
    body,
    produces: 'application/json',
    handler,
  };
}

/** The worker's audit log, or a 404 in the Connect error shape when this worker runs without one. */
export function operationsOf(ctx: RouteContext): OperationsLog {
  if (!ctx.operations) throw new HttpError(404, 'The operations log is not available on this worker');
  return ctx.operations;
}

function limitOf(v: string | null): number | undefined {
  if (v === null) return undefined;
  if (!/^\d{1,4}$/.test(v) || Number(v) < 1 || Number(v) > 1000) {
    throw new HttpError(400, `Invalid limit '${v}': expected 1 to 1000`);
  }
  return Number(v);
}

function kindOf(v: string | null): OperationKind | undefined {
  if (v === null) return undefined;
  if (!OPERATION_KINDS.includes(v as OperationKind)) {
    throw new HttpError(400, `Invalid kind '${v}': expected one of ${OPERATION_KINDS.join(', ')}`);
  }
  return v as OperationKind;
}

const ok = (body: unknown): RouteResult => ({ status: 200, body });

export const operationsRoutes: Route[] = [
  erpRoute('GET', '/operations', async (ctx) => {
    const q = ctx.query;
    const kind = kindOf(q.get('kind'));
    const limit = limitOf(q.get('limit'));
    const operations = await operationsOf(ctx).list({
      ...(q.get('customer') !== null ? { customer: q.get('customer')! } : {}),
      ...(q.get('connector') !== null ? { connector: q.get('connector')! } : {}),
      ...(kind ? { kind } : {}),
      ...(limit ? { limit } : {}),
    });
    return ok({ operations });
  }),
  erpRoute('GET', '/operations/{c}', async (ctx) => {
    const e = await operationsOf(ctx).get(ctx.params[0]!);
    if (!e) throw new HttpError(404, `Operation ${ctx.params[0]!} not found`);
    return ok(e);
  }),
];

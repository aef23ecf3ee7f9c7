import { createHash } from 'node:crypto';
import type { RedeliveryItem, ReplaySince } from '../api/index.js';
import { OPERATION_KINDS, type OperationKind, type OperationsLog } from '../operations/audit-log.js';
import {
  type ConnectorWork,
  type RedeliveryRun,
  RedeliveryError,
  redeliverableConnectors,
  startRedelivery,
} from '../operations/redelivery.js';
import { HttpError } from './http-error.js';
import { httpStatusOf } from './error-status.js';
import type { Route, RouteContext, RouteResult } from './routes.js';

/**
 * The operations audit log over REST: `GET /erpstream/v1/operations?customer=&connector=&kind=&limit=` (newest first)
 * and `GET /erpstream/v1/operations/{id}`; per-customer replay and targeted re-delivery, which are recorded there.
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

const CUSTOMER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const MAX_IDS = 100_000;

function checkCustomer(customer: string): void {
  if (!CUSTOMER_NAME.test(customer)) {
    throw new HttpError(
      400,
      `Invalid customer name ${JSON.stringify(customer.slice(0, 80))}: expected the integration's metadata.name`,
    );
  }
}

function objectBody(body: unknown, fields: readonly string[]): Record<string, unknown> {
  const b = body ?? {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new HttpError(400, 'The body must be a JSON object');
  const unknown = Object.keys(b).filter((k) => !fields.includes(k));
  if (unknown.length > 0) throw new HttpError(400, `Unknown field ${unknown[0]}: expected ${fields.join(', ')}`);
  return b as Record<string, unknown>;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `since` of a replay: digits are a delivered version (inclusive); `<n>s|m|h|d` is that long ago; anything else an
 * ISO-8601 time. Versions and times never mix up: a version has no unit and no dashes.
 */
export function parseSince(v: unknown, now = Date.now()): { since: ReplaySince; shown: string } {
  const text = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
  if (typeof text !== 'string' || text.trim() === '') {
    throw new HttpError(400, 'since is required: a version (digits), a duration ago (30m, 2h, 1d) or an ISO time');
  }
  const t = text.trim();
  if (/^\d{1,30}$/.test(t)) return { since: { version: BigInt(t) }, shown: `version ${t}` };
  const ago = /^(\d{1,9})([smhd])$/.exec(t);
  if (ago) {
    const ms = now - Number(ago[1]) * UNIT_MS[ago[2]!]!;
    return { since: { timeMs: ms }, shown: new Date(ms).toISOString() };
  }
  const ms = /^\d{4}-\d{2}-\d{2}/.test(t) ? Date.parse(t) : NaN;
  if (!Number.isFinite(ms)) {
    throw new HttpError(
      400,
      `Invalid since ${JSON.stringify(t.slice(0, 60))}: expected a version, 30m/2h/1d or an ISO time`,
    );
  }
  return { since: { timeMs: ms }, shown: new Date(ms).toISOString() };
}

function idList(v: unknown, field: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '' || x.length > 300)) {
    throw new HttpError(400, `${field} must be an array of entity ids (non-empty strings of at most 300 characters)`);
  }
  if (v.length > MAX_IDS) throw new HttpError(400, `${field}: at most ${MAX_IDS} ids per request`);
  return v as string[];
}

/** The answer of a started re-delivery: 202 with what was queued, or 200 with the totals when the caller waited. */
async function answer(run: RedeliveryRun, customer: string, wait: boolean, extra: Record<string, unknown>) {
  const body = {
    operationId: run.operation?.id ?? null,
    customer,
    ...extra,
    connectors: run.requests,
    queued: run.requests.reduce((n, r) => n + r.queued, 0),
  };
  if (!wait) return { status: 202, body };
  const totals = await run.done;
  return ok({ ...body, totals });
}

function asHttp(e: unknown): never {
  if (e instanceof RedeliveryError) throw new HttpError(httpStatusOf(e) ?? 500, e.message);
  throw e;
}

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
  // Re-sends what the customer's connectors delivered since a time or version (e.g. after it restored a backup).
  erpRoute(
    'POST',
    '/integrations/{c}/replay',
    async (ctx) => {
      const customer = ctx.params[0]!;
      checkCustomer(customer);
      const b = objectBody(ctx.body, ['since', 'connector', 'wait']);
      const { since, shown } = parseSince(b.since);
      const run = await (async () => {
        const connectors = redeliverableConnectors(ctx.herder, ctx.registry, customer).filter(
          (c) => b.connector === undefined || c.name === b.connector,
        );
        if (connectors.length === 0)
          throw new HttpError(404, `Customer ${customer} has no connector ${String(b.connector)}`);
        const work: ConnectorWork[] = connectors.map((c) => ({
          connector: c,
          requestKey: `replay:${'version' in since ? `v${since.version}` : `t${since.timeMs}`}`,
          items: (admin) => deliverAll(admin.deliveredSince(since)),
        }));
        return startRedelivery({
          herder: ctx.herder,
          operations: ctx.operations,
          kind: 'replay',
          customer,
          who: ctx.principal,
          scope: { since: shown },
          work,
        });
      })().catch(asHttp);
      return answer(run, customer, b.wait === true, { since: shown });
    },
    true,
  ),
  // Targeted re-delivery: these entities again (at the origin's current version), those withdrawn, for one connector
  // of one customer. What `reconcile --repair` does with the differences it found.
  erpRoute(
    'POST',
    '/integrations/{c}/redeliver',
    async (ctx) => {
      const customer = ctx.params[0]!;
      checkCustomer(customer);
      const b = objectBody(ctx.body, ['connector', 'deliver', 'withdraw', 'wait', 'kind']);
      if (typeof b.connector !== 'string') throw new HttpError(400, 'connector is required: the sink connector name');
      const deliver = idList(b.deliver, 'deliver');
      const withdraw = Array.isArray(b.withdraw)
        ? (b.withdraw as unknown[]).map((w) =>
            typeof w === 'string' ? { entityId: w } : (w as { entityId?: unknown; target?: unknown }),
          )
        : b.withdraw === undefined
          ? []
          : (() => {
              throw new HttpError(400, 'withdraw must be an array of ids or {entityId, target}');
            })();
      idList(
        withdraw.map((w) => w.entityId),
        'withdraw',
      );
      if (withdraw.some((w) => w.target !== undefined && (typeof w.target !== 'string' || w.target.length > 512))) {
        throw new HttpError(400, 'withdraw[].target must be a topic or table name');
      }
      if (deliver.length + withdraw.length === 0)
        throw new HttpError(400, 'Nothing to do: give deliver or withdraw ids');
      const items: RedeliveryItem[] = [
        ...deliver.map((entityId) => ({ entityId, action: 'deliver' as const })),
        ...withdraw.map((w) => ({
          entityId: w.entityId as string,
          action: 'withdraw' as const,
          ...(typeof w.target === 'string' ? { target: w.target } : {}),
        })),
      ];
      const kind = b.kind === undefined ? 'repair' : b.kind;
      if (kind !== 'repair' && kind !== 'replay') throw new HttpError(400, 'kind must be repair or replay');
      const run = await (async () => {
        const c = redeliverableConnectors(ctx.herder, ctx.registry, customer).find((x) => x.name === b.connector);
        if (!c)
          throw new HttpError(
            404,
            `Connector ${b.connector as string} is not a re-deliverable connector of ${customer}`,
          );
        return startRedelivery({
          herder: ctx.herder,
          operations: ctx.operations,
          kind,
          customer,
          who: ctx.principal,
          scope: { deliver: deliver.length, withdraw: withdraw.length },
          work: [{ connector: c, requestKey: `${kind}:${requestKeyOf(items)}`, items: () => [items] }],
        });
      })().catch(asHttp);
      return answer(run, customer, b.wait === true, {});
    },
    true,
  ),
];

/** Ledger ids as deliver items. */
async function* deliverAll(ids: AsyncIterable<string[]>): AsyncIterable<RedeliveryItem[]> {
  for await (const page of ids) yield page.map((entityId) => ({ entityId, action: 'deliver' as const }));
}

/** The same set of items (in any order) gives the same key: running it again resumes it. */
function requestKeyOf(items: readonly RedeliveryItem[]): string {
  const text = items
    .map((i) => `${i.action}\u0000${i.entityId}\u0000${i.target ?? ''}`)
    .sort()
    .join('\n');
  return createHash('sha256').update(text).digest('hex');
}

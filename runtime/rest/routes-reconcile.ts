import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  type ReconcileConnectorReport,
  type ReconcileDifference,
  type ReconcileHook,
  type ReconcileReport,
  customerReport,
  type RedeliveryItem,
  reconcileHookOf,
  repairItemOf,
  connectionSecretValues,
  CUSTOMER_CONFIG_KEY,
  customerOf,
  scrubSecrets,
} from '../api/index.js';
import {
  RedeliveryError,
  checkRedeliverable,
  redeliverableConnectors,
  startRedelivery,
} from '../operations/redelivery.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { Herder } from '../worker/herder-types.js';
import { buildTaskTransforms } from '../worker/task-transforms.js';
import { HttpError } from './http-error.js';
import { httpStatusOf } from './error-status.js';
import type { Route, RouteContext } from './routes.js';

/**
 * `POST /erpstream/v1/integrations/{customer}/reconcile`: does the customer hold exactly what it should? Runs the
 * reconcile capability (runtime/api/reconcile.ts) of every connector of the customer and adds the reports up. Any
 * worker answers: what is compared lives in databases and topics, not in this worker's memory.
 */

/** Integration names are `metadata.name`: a safe name part (they end up in topic and connector names). */
const CUSTOMER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const DEFAULT_SAMPLE = 10;
const MAX_SAMPLE = 1000;

export interface ReconcileOptions {
  sample: number;
  onDifference?: (d: ReconcileDifference) => void | Promise<void>;
  signal?: AbortSignal;
}

export function checkCustomerName(customer: string): void {
  if (!CUSTOMER_NAME.test(customer)) {
    throw new HttpError(
      400,
      `Invalid customer name ${JSON.stringify(customer.slice(0, 80))}: expected the integration's metadata.name ` +
        '(letters, digits, ".", "_", "-"; at most 200 characters)',
    );
  }
}

/** The customer's connectors that offer reconciliation, in name order; 404 when no connector is the customer's. */
export function reconcilableConnectors(
  herder: Herder,
  registry: PluginRegistry,
  customer: string,
): Array<{ name: string; config: Record<string, string>; hook: ReconcileHook }> {
  const mine = herder
    .connectors()
    .sort()
    .map((name) => ({ name, config: herder.connectorConfig(name) }))
    .filter((c) => customerOf(c.name, c.config) === customer);
  if (mine.length === 0) {
    throw new HttpError(
      404,
      `No connector belongs to customer ${customer} (connectors carry it in ${CUSTOMER_CONFIG_KEY}; ` +
        '`erpstream integrations list` shows the customers)',
    );
  }
  const out = mine.flatMap((c) => {
    const cls = (c.config['connector.class'] ?? '').trim();
    const hook = reconcileHookOf(registry.find('sink', cls));
    return hook ? [{ ...c, hook }] : [];
  });
  if (out.length === 0) {
    throw new HttpError(
      400,
      `Customer ${customer} has no connector that can be reconciled (${mine.map((c) => c.name).join(', ')}): ` +
        'only LookupSink connectors know what they delivered',
    );
  }
  return out;
}

/** Reconciles every reconcilable connector of the customer, one after the other (each holds its own bound). */
export async function reconcileCustomer(
  herder: Herder,
  registry: PluginRegistry,
  customer: string,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  checkCustomerName(customer);
  const services = herder.services?.();
  if (!services) throw new HttpError(500, 'This worker cannot run plugin capabilities (no services)');
  const connectors = reconcilableConnectors(herder, registry, customer);
  const startedAt = new Date().toISOString();
  const reports: ReconcileConnectorReport[] = [];
  for (const c of connectors) {
    const config = await services.resolveConfig(c.config);
    const kafka = services.kafka();
    try {
      reports.push(
        await c.hook({
          connector: c.name,
          config,
          sample: options.sample,
          // The same chain builder the connector's tasks get (SinkTaskContext.transforms).
          transforms: (props, prefix) => buildTaskTransforms(registry, props, prefix),
          ...(kafka ? { kafka } : {}),
          ...(options.onDifference ? { onDifference: options.onDifference } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
    } catch (e) {
      const status = (e as { code?: unknown }).code === 'ERPSTREAM_CONFIG' ? 400 : 500;
      throw new HttpError(
        status,
        scrubSecrets(
          `Reconcile of connector ${c.name} failed: ${(e as Error).message}`,
          connectionSecretValues(config),
        ),
      );
    }
  }
  return customerReport(customer, reports, options.sample, { startedAt, finishedAt: new Date().toISOString() });
}

export function parseReconcileBody(body: unknown): { repair: boolean; sample: number; wait: boolean } {
  const b = body ?? {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new HttpError(400, 'The body must be a JSON object');
  const { repair, sample, wait, ...rest } = b as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new HttpError(400, `Unknown field ${unknown[0]}: expected repair, sample, wait`);
  if (repair !== undefined && typeof repair !== 'boolean') throw new HttpError(400, 'repair must be true or false');
  if (wait !== undefined && typeof wait !== 'boolean') throw new HttpError(400, 'wait must be true or false');
  if (sample !== undefined && (!Number.isInteger(sample) || (sample as number) < 0 || (sample as number) > MAX_SAMPLE))
    throw new HttpError(400, `sample must be an integer from 0 to ${MAX_SAMPLE}`);
  return { repair: repair === true, sample: (sample as number | undefined) ?? DEFAULT_SAMPLE, wait: wait === true };
}

/**
 * The repair items of a reconcile, per connector, spooled to temp files as JSON lines while the differences stream
 * by (a repair of a million entities is never held in memory), with a digest of each connector's items: the same
 * differences give the same request key, so repairing again resumes an unfinished repair instead of queueing it twice.
 */
class RepairSpool {
  private dir: string | null = null;
  private readonly files = new Map<string, { path: string; out: WriteStream; hash: ReturnType<typeof createHash> }>();
  private readonly counts = new Map<string, number>();

  async add(connector: string, item: RedeliveryItem): Promise<void> {
    let f = this.files.get(connector);
    if (!f) {
      this.dir ??= await mkdtemp(join(tmpdir(), 'erpstream-repair-'));
      const path = join(this.dir, `${this.files.size}.jsonl`);
      f = { path, out: createWriteStream(path), hash: createHash('sha256') };
      this.files.set(connector, f);
    }
    const line = `${JSON.stringify(item)}\n`;
    f.hash.update(line);
    this.counts.set(connector, (this.counts.get(connector) ?? 0) + 1);
    if (!f.out.write(line)) await new Promise<void>((r) => f.out.once('drain', () => r()));
  }

  /** Closes the files; answers each connector's request key. */
  async finish(): Promise<Map<string, string>> {
    const keys = new Map<string, string>();
    for (const [connector, f] of this.files) {
      await new Promise<void>((resolve, reject) => f.out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      keys.set(connector, `repair:${f.hash.digest('hex')}`);
    }
    return keys;
  }

  async *items(connector: string, batch = 500): AsyncGenerator<RedeliveryItem[]> {
    const f = this.files.get(connector);
    if (!f) return;
    const rl = createInterface({ input: createReadStream(f.path, { encoding: 'utf8' }), crlfDelay: Infinity });
    let page: RedeliveryItem[] = [];
    for await (const line of rl) {
      if (line === '') continue;
      page.push(JSON.parse(line) as RedeliveryItem);
      if (page.length >= batch) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }

  connectors(): string[] {
    return [...this.files.keys()];
  }

  count(connector: string): number {
    return this.counts.get(connector) ?? 0;
  }

  async dispose(): Promise<void> {
    for (const f of this.files.values()) f.out.destroy();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

async function reconcileRoute({ herder, registry, params, body, operations, principal }: RouteContext) {
  const customer = params[0]!;
  checkCustomerName(customer);
  const { repair, sample, wait } = parseReconcileBody(body);
  // Refused requests (a bad name, an unknown customer) are not operations; a reconcile that ran is, also if it failed.
  reconcilableConnectors(herder, registry, customer);
  let repairable: ReturnType<typeof redeliverableConnectors> = [];
  try {
    if (repair) repairable = redeliverableConnectors(herder, registry, customer);
    // A repair that would be refused is refused before the reconcile runs (it may read a million entities).
    await checkRedeliverable(herder, repairable);
  } catch (e) {
    throw httpOf(e);
  }
  const spool = repair ? new RepairSpool() : null;
  try {
    const op = await operations?.begin({ kind: 'reconcile', customer, who: principal, scope: { sample, repair } });
    let report: ReconcileReport;
    try {
      report = await reconcileCustomer(herder, registry, customer, {
        sample,
        ...(spool
          ? {
              onDifference: async (d: ReconcileDifference) => {
                const item = repairItemOf(d);
                if (item) await spool.add(d.connector, item);
              },
            }
          : {}),
      });
      if (op && operations) {
        await operations.finish(op.id, {
          result: 'succeeded',
          counts: { ...report.counts },
          message: report.inSync ? 'in sync' : 'not in sync',
        });
      }
    } catch (e) {
      if (op && operations) {
        await operations.finish(op.id, { result: 'failed', message: (e as Error).message }).catch(() => {});
      }
      throw e;
    }
    const answer = { ...report, operationId: op?.id ?? null };
    if (!spool) return { status: 200, body: answer };
    // Repair: what was found goes through the connectors' own pipeline (version guard, ledger), queued durably.
    const keys = await spool.finish();
    const work = repairable
      .filter((c) => keys.has(c.name))
      .map((c) => ({ connector: c, requestKey: keys.get(c.name)!, items: () => spool.items(c.name) }));
    if (work.length === 0) return { status: 200, body: { ...answer, repair: null } };
    const run = await startRedelivery({
      herder,
      operations,
      kind: 'repair',
      customer,
      who: principal,
      scope: { reconcileOperationId: op?.id ?? null, found: { ...report.counts } },
      work,
    }).catch((e: unknown) => {
      throw httpOf(e);
    });
    const started = {
      operationId: run.operation?.id ?? null,
      connectors: run.requests,
      queued: run.requests.reduce((n, r) => n + r.queued, 0),
    };
    if (!wait) return { status: 200, body: { ...answer, repair: started } };
    return { status: 200, body: { ...answer, repair: { ...started, totals: await run.done } } };
  } finally {
    await spool?.dispose();
  }
}

/** The re-delivery driver's typed refusals (404 no connector, 400 none re-deliverable) in the REST error shape. */
function httpOf(e: unknown): unknown {
  return e instanceof RedeliveryError ? new HttpError(httpStatusOf(e) ?? 500, e.message) : e;
}

export const reconcileRoutes: Route[] = [
  {
    method: 'POST',
    segments: ['erpstream', 'v1', 'integrations', '{c}', 'reconcile'],
    body: true,
    produces: 'application/json',
    handler: reconcileRoute,
  },
];

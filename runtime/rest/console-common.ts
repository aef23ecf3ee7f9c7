import { type AdminParkedRecord, CUSTOMER_CONFIG_KEY, customerOf } from '../api/index.js';
import { HttpError } from './http-error.js';
import type { Inspected, OpsServices } from './ops.js';
import type { RouteContext } from './routes.js';

/** What the /erpstream/v1 operations endpoints share: parameter checks and which connectors a request is about. */

/** An integer query parameter within [min, max]; 400 naming it otherwise. */
export function intParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return dflt;
  if (!/^\d{1,9}$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new HttpError(
      400,
      `Query parameter ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  }
  return Number(raw);
}

/** A text parameter (connector, customer, entity, key): bounded, no control characters. */
export function textParam(value: unknown, name: string, required = false): string | null {
  if (value === undefined || value === null || value === '') {
    if (required) throw new HttpError(400, `${name} is required`);
    return null;
  }
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value.length > 1000 || /[\u0000-\u001f]/.test(value)) {
    throw new HttpError(400, `${name} must be a string of at most 1000 characters without control characters`);
  }
  return value;
}

export interface ScopedConnector {
  name: string;
  customer: string;
  config: Record<string, string>;
}

/**
 * The connectors a request is about: the named one (404 if unknown), else those of a customer (404 if no connector
 * carries it), else every customer's. Only connectors that belong to a customer: labelled with
 * erpstream.integration, or with an inspectable plugin (a LookupSink), whose customer defaults to their name.
 */
export function scopedConnectors(
  ctx: RouteContext,
  ops: OpsServices,
  filter: { connector: string | null; customer: string | null },
): ScopedConnector[] {
  const { herder } = ctx;
  if (filter.connector !== null) {
    const config = herder.connectorConfig(filter.connector); // 404 as Connect's when unknown
    const customer = customerOf(filter.connector, config);
    if (filter.customer !== null && filter.customer !== customer) {
      throw new HttpError(404, `Connector ${filter.connector} does not belong to customer ${filter.customer}`);
    }
    return [{ name: filter.connector, customer, config }];
  }
  const out: ScopedConnector[] = [];
  for (const name of herder.connectors()) {
    let config: Record<string, string>;
    try {
      config = herder.connectorConfig(name);
    } catch {
      continue; // deleted meanwhile
    }
    if (config[CUSTOMER_CONFIG_KEY] === undefined && !ops.inspectable(config)) continue;
    const customer = customerOf(name, config);
    if (filter.customer !== null && customer !== filter.customer) continue;
    out.push({ name, customer, config });
  }
  if (filter.customer !== null && out.length === 0) throw new HttpError(404, `Customer ${filter.customer} not found`);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Opens a connector for inspection; 400 when its plugin offers none. */
export async function inspectOrFail(ops: OpsServices, c: ScopedConnector, what: string): Promise<Inspected> {
  const i = await ops.inspect(c.name, c.config);
  if (!i) {
    throw new HttpError(400, `Connector ${c.name} (${c.config['connector.class'] ?? '?'}) keeps no ${what} to inspect`);
  }
  return i;
}

export const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();

export function parkedView(c: { name: string; customer: string }, admin: Inspected['admin'], p: AdminParkedRecord) {
  return {
    connector: c.name,
    customer: c.customer,
    destination: admin.destination,
    entity: admin.entity,
    entityId: p.entityId,
    version: p.version.toString(),
    reason: p.reason,
    waiting: p.waiting,
    waitingOn: p.waitingOn,
    firstParkedAt: iso(p.firstParkedAt),
    nextCheckAt: iso(p.nextCheckAt),
    attempts: p.attempts,
  };
}

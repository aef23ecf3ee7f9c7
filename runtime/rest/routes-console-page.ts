import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CUSTOMER_CONFIG_KEY } from '../api/index.js';
import { type ConnectorRole, type HistorySeries, type MetricHistory, mergeSeries } from '../worker/metric-history.js';
import { HttpError } from './http-error.js';
import type { Route, RouteContext, RouteResult } from './routes.js';

/**
 * The operations console: its static page under /console/ (plain HTML, ES modules and CSS from the package's
 * `console/` folder, no build step) and the metric history its plots read. Both go through the REST server, so
 * they get its listener, authentication and TLS; `console.enabled=false` turns the page into a 404.
 */

/** The worker-side state the console routes need (RouteContext.server.console). */
export interface ConsoleState {
  /** `console.enabled`: serve the page (the data endpoints answer either way). */
  enabled: boolean;
  history: MetricHistory;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The page's assets: `console/` at the package root, seen from runtime/rest/ (sources) or dist/runtime/rest/. */
function assetDir(): string | null {
  for (const rel of ['../../console/', '../../../console/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return null;
}

const ASSET_DIR = assetDir();
/** Only the files that ship, by exact name: a request never reaches the file system with a path of its own. */
const ASSETS = ASSET_DIR
  ? readdirSync(ASSET_DIR).filter((f) => Object.keys(TYPES).some((ext) => f.endsWith(ext)) && !f.startsWith('.'))
  : [];
const cache = new Map<string, Buffer>();

/**
 * The page may run its own scripts and styles and talk to this origin only: a DLQ payload or a connector
 * trace shown on it can never run as script, load from elsewhere, or be framed by another site.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

function serveAsset(file: string) {
  return ({ server, res }: RouteContext): RouteResult => {
    if (!server.console?.enabled || ASSET_DIR === null) throw new HttpError(404, 'HTTP 404 Not Found');
    let body = cache.get(file);
    if (!body) {
      body = readFileSync(`${ASSET_DIR}${file}`);
      cache.set(file, body);
    }
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    const type = TYPES[file.slice(file.lastIndexOf('.'))]!;
    return { status: 200, body: body.toString('utf8'), contentType: type };
  };
}

function assetRoute(path: string, file: string): Route {
  const type = TYPES[file.slice(file.lastIndexOf('.'))]!;
  return {
    method: 'GET',
    segments: path.split('/').filter((s) => s !== ''),
    body: false,
    produces: type.split(';')[0]!,
    handler: serveAsset(file),
  };
}

/** The customer a connector belongs to, and whether its samples count as a source or a sink. */
function roleOf(ctx: RouteContext, connector: string): { customer: string | null; role: ConnectorRole } | null {
  let config: Record<string, string>;
  let type: string;
  try {
    config = ctx.herder.connectorConfig(connector);
    type = ctx.herder.connectorInfo(connector).type;
  } catch {
    return null; // deleted since it was sampled
  }
  const label = config[CUSTOMER_CONFIG_KEY]?.trim() || null;
  if (type === 'source') return { customer: label, role: 'source' };
  return { customer: label ?? connector, role: 'sink' };
}

function minutesParam(q: URLSearchParams): number {
  const raw = q.get('minutes');
  if (raw === null || raw === '') return 60;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > 60) {
    throw new HttpError(400, `minutes must be a whole number from 1 to 60, got '${raw}'`);
  }
  return Number(raw);
}

/**
 * The history of the whole cluster: this worker's own, merged with every other worker's (`local=true` asks a
 * worker for its own only). A worker that does not answer is named in `workers.missing`; the plots then show
 * what the others saw.
 */
async function clusterHistory(ctx: RouteContext): Promise<RouteResult> {
  const own = metricsHistory(ctx);
  const local = (ctx.query.get('local') ?? '').toLowerCase() === 'true';
  if (local || !ctx.herder.askPeers) return own;
  const body = own.body as { stepMs: number; series: HistorySeries; [k: string]: unknown };
  const q = new URLSearchParams(ctx.query);
  q.set('local', 'true');
  const { answers, failed } = await ctx.herder.askPeers(`/erpstream/v1/metrics/history?${q.toString()}`);
  const series = [body.series, ...answers.map((a) => (a.body as { series: HistorySeries }).series)];
  return {
    status: 200,
    body: {
      ...body,
      series: mergeSeries(series, body.stepMs),
      workers: { answered: [ctx.herder.workerId, ...answers.map((a) => a.workerId)], missing: failed },
    },
  };
}

function metricsHistory(ctx: RouteContext): RouteResult {
  const history = ctx.server.console?.history;
  if (!history) throw new HttpError(404, 'HTTP 404 Not Found');
  const minutes = minutesParam(ctx.query);
  const customer = ctx.query.get('customer')?.trim() || null;
  const roles = new Map<string, { customer: string | null; role: ConnectorRole } | null>();
  const known = (c: string) => {
    if (!roles.has(c)) roles.set(c, roleOf(ctx, c));
    return roles.get(c)!;
  };
  const customers = new Set<string>();
  for (const name of ctx.herder.connectors()) {
    const r = known(name);
    if (r?.customer) customers.add(r.customer);
  }
  if (customer !== null && !customers.has(customer)) {
    throw new HttpError(404, `No connector belongs to customer ${customer}`);
  }
  const samples = history.samples(minutes);
  // A customer's series: its own connectors, plus the sources no customer owns (integrations share them).
  const series = history.series(samples, (connector) => {
    const r = known(connector);
    if (r === null) return null;
    if (customer === null) return r.role;
    if (r.customer === customer || (r.role === 'source' && r.customer === null)) return r.role;
    return null;
  });
  return {
    status: 200,
    body: { stepMs: history.stepMs, customer, customers: [...customers].sort(), minutes, series },
  };
}

export const consolePageRoutes: Route[] = [
  ...(ASSETS.includes('index.html') ? [assetRoute('/console', 'index.html')] : []),
  ...ASSETS.map((f) => assetRoute(`/console/${f}`, f)),
  {
    method: 'GET',
    segments: ['erpstream', 'v1', 'metrics', 'history'],
    body: false,
    produces: 'application/json',
    handler: clusterHistory,
  },
];

import type { ServerResponse } from 'node:http';
import { configKeyInfo, type PluginDescriptor } from '../api/index.js';
import { isLogLevel, type LogLevel, type LogLevelRegistry } from '../logging/index.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { ConnectorOffsets, Herder, InitialState } from '../worker/herder-types.js';
import type { WorkerMetrics } from '../worker/metrics.js';
import { frameworkConfigDef } from '../worker/connector-config.js';

import { HttpError } from './http-error.js';
import { reconcileRoutes } from './routes-reconcile.js';
import { type ConsoleState, consolePageRoutes } from './routes-console-page.js';
import type { OpsServices } from './ops.js';
import { consoleRoutes } from './routes-console.js';
import type { OperationsLog } from '../operations/audit-log.js';
import { operationsRoutes } from './routes-operations.js';

export { HttpError };

export interface RouteContext {
  params: string[];
  query: URLSearchParams;
  body: unknown;
  herder: Herder;
  registry: PluginRegistry;
  levels: LogLevelRegistry;
  server: { version: string; commit: string; metrics: WorkerMetrics | undefined; console?: ConsoleState };
  res: ServerResponse;
  /** The /erpstream/v1 operations endpoints' services (absent: those endpoints answer 404). */
  ops?: OpsServices;
  /** Who made the request (runtime/rest/principal.ts), for the operations audit log. */
  principal: string;
  /** The cluster-wide operations audit log (runtime/operations/audit-log.ts), when the worker has one. */
  operations: OperationsLog | undefined;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  contentType?: string;
}

export interface Route {
  method: string;
  /** The path template's segments: literals, `{c}` (any one segment) or `{n}` (a Java int, as Jersey's). */
  segments: string[];
  /** Whether the route reads a JSON body (and so answers 415 to other content types). */
  body: boolean;
  /** What it answers with, for content negotiation (Accept). */
  produces: string;
  handler(ctx: RouteContext): RouteResult | Promise<RouteResult>;
}

const C = '{c}';
const N = '{n}';
const ok = (body: unknown): RouteResult => ({ status: 200, body });

function route(method: string, path: string, handler: Route['handler'], body = false): Route {
  return {
    method,
    segments: path
      .split('/')
      .slice(1)
      .filter((s) => s !== ''),
    body,
    produces: JSON_TYPE,
    handler,
  };
}

const JSON_TYPE = 'application/json';
const INT = /^[+-]?\d{1,10}$/;

/**
 * The route's parameters if the path (raw segments, and the same decoded once) fits its template, else null.
 * Literals compare with the raw segment, as Jersey matches the encoded path (`/%63onnectors` is a 404).
 */
export function matchRoute(route: Route, raw: readonly string[], decoded: readonly string[]): string[] | null {
  if (route.segments.length !== raw.length) return null;
  const params: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const t = route.segments[i]!;
    if (t === C) {
      if (raw[i] === '') return null;
      params.push(decoded[i]!);
    } else if (t === N) {
      const v = decoded[i]!;
      if (!INT.test(v) || Math.abs(Number(v)) > 2 ** 31 - 1) return null;
      params.push(String(Number(v)));
    } else if (raw[i] !== t) {
      return null;
    }
  }
  return params;
}

function bool(q: URLSearchParams, name: string): boolean {
  return (q.get(name) ?? 'false').toLowerCase() === 'true';
}

/** A connector config from a JSON body: a flat object; numbers and booleans become strings, as Jackson does. */
function configMap(value: unknown, what: string): Record<string, string | null> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, `${what} must be a JSON object of string values`);
  }
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === null) out[k] = null;
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else throw new HttpError(400, `${what}: the value of '${k}' must be a string`);
  }
  return out;
}

/** POST /connectors' "name": a string, or a number or boolean as Jackson coerces it; anything else is named. */
function connectorName(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value).trim();
  throw new HttpError(400, `"name" must be a string, not ${Array.isArray(value) ? 'an array' : 'an object'}`);
}

function nameMismatch(configName: string | null | undefined, name: string): void {
  if (configName !== undefined && configName !== null && configName !== name) {
    throw new HttpError(
      400,
      `Connector name configuration (${configName}) doesn't match connector name in the URL (${name})`,
    );
  }
}

function parseInitialState(v: unknown): InitialState | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const s = String(v).toUpperCase();
  if (s === 'RUNNING' || s === 'PAUSED' || s === 'STOPPED') return s;
  throw new HttpError(400, `Invalid initial_state ${String(v)}: expected one of RUNNING, PAUSED, STOPPED`);
}

function pluginInfo(p: PluginDescriptor): { class: string; type: string; version?: string } {
  return {
    class: p.className,
    type: p.type,
    ...(p.version && p.version !== 'undefined' ? { version: p.version } : {}),
  };
}

function findAnyPlugin(registry: PluginRegistry, name: string): PluginDescriptor | undefined {
  for (const type of ['source', 'sink', 'converter', 'header_converter', 'transformation', 'predicate'] as const) {
    const p = registry.find(type, name);
    if (p) return p;
  }
  const alt = name.endsWith('Connector') ? name.slice(0, -'Connector'.length) : `${name}Connector`;
  return registry.find('source', alt) ?? registry.find('sink', alt);
}

const HIDDEN_IN_LIST = new Set(['config_provider']);

export const routes: Route[] = [
  route('GET', '/', async ({ herder, server }) =>
    ok({ version: server.version, commit: server.commit, kafka_cluster_id: await herder.kafkaClusterId() }),
  ),
  route('GET', '/health', ({ herder }) =>
    herder.ready()
      ? ok({ status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.' })
      : { status: 503, body: { status: 'starting', message: 'Worker is still starting up.' } },
  ),
  {
    ...route('GET', '/metrics', ({ server }) => ({
      status: 200,
      body: server.metrics?.render() ?? '',
      contentType: 'text/plain; version=0.0.4',
    })),
    produces: 'text/plain',
  },
  route('GET', '/connectors', ({ herder, query }) => {
    const names = herder.connectors();
    const expand = query.getAll('expand');
    if (expand.length === 0) return ok(names);
    const out: Record<string, Record<string, unknown>> = {};
    for (const name of names) {
      const entry: Record<string, unknown> = {};
      try {
        if (expand.includes('status')) entry.status = herder.connectorStatus(name);
        if (expand.includes('info')) entry.info = herder.connectorInfo(name);
      } catch {
        continue; // deleted during the call: Connect skips it
      }
      out[name] = entry;
    }
    return ok(out);
  }),
  route(
    'POST',
    '/connectors',
    async ({ herder, body, res }) => {
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new HttpError(400, 'Request body must be a JSON object with "name" and "config"');
      }
      const b = body as { name?: unknown; config?: unknown; initial_state?: unknown };
      const name = connectorName(b.name);
      const config = configMap(b.config ?? {}, 'config');
      nameMismatch(config.name, name);
      config.name = name;
      const initialState = parseInitialState(b.initial_state);
      const { info } = await herder.putConnectorConfig(name, config as Record<string, string>, {
        allowReplace: false,
        ...(initialState ? { initialState } : {}),
      });
      res.setHeader('Location', `/connectors/${encodeURIComponent(name)}`);
      return { status: 201, body: info };
    },
    true,
  ),
  route('GET', `/connectors/${C}`, ({ herder, params }) => ok(herder.connectorInfo(params[0]!))),
  route('DELETE', `/connectors/${C}`, async ({ herder, params }) => {
    await herder.deleteConnector(params[0]!);
    return { status: 204 };
  }),
  route('GET', `/connectors/${C}/config`, ({ herder, params }) => ok(herder.connectorConfig(params[0]!))),
  route(
    'PUT',
    `/connectors/${C}/config`,
    async ({ herder, params, body, res }) => {
      const name = params[0]!;
      const config = configMap(body, 'Connector config');
      nameMismatch(config.name, name);
      config.name ??= name;
      const { created, info } = await herder.putConnectorConfig(name, config as Record<string, string>, {
        allowReplace: true,
      });
      if (created) res.setHeader('Location', `/connectors/${encodeURIComponent(name)}`);
      return { status: created ? 201 : 200, body: info };
    },
    true,
  ),
  route(
    'PATCH',
    `/connectors/${C}/config`,
    async ({ herder, params, body }) => {
      const name = params[0]!;
      const patch = configMap(body, 'Connector config patch');
      nameMismatch(patch.name, name);
      return ok(await herder.patchConnectorConfig(name, patch));
    },
    true,
  ),
  route('GET', `/connectors/${C}/status`, ({ herder, params }) => ok(herder.connectorStatus(params[0]!))),
  route('POST', `/connectors/${C}/restart`, async ({ herder, params, query }) => {
    const snapshot = await herder.restartConnector(params[0]!, {
      includeTasks: bool(query, 'includeTasks'),
      onlyFailed: bool(query, 'onlyFailed'),
    });
    return snapshot === null ? { status: 204 } : { status: 202, body: snapshot };
  }),
  route('PUT', `/connectors/${C}/pause`, async ({ herder, params }) => {
    await herder.pauseConnector(params[0]!);
    return { status: 202 };
  }),
  route('PUT', `/connectors/${C}/resume`, async ({ herder, params }) => {
    await herder.resumeConnector(params[0]!);
    return { status: 202 };
  }),
  route('PUT', `/connectors/${C}/stop`, async ({ herder, params }) => {
    await herder.stopConnector(params[0]!);
    return { status: 204 };
  }),
  route('GET', `/connectors/${C}/tasks`, ({ herder, params }) => ok(herder.taskConfigs(params[0]!))),
  route('GET', `/connectors/${C}/tasks-config`, ({ herder, params }) => {
    const out: Record<string, Record<string, string>> = {};
    for (const t of herder.taskConfigs(params[0]!)) out[`${t.id.connector}-${t.id.task}`] = t.config;
    return ok(out);
  }),
  route('GET', `/connectors/${C}/tasks/${N}/status`, ({ herder, params }) =>
    ok(herder.taskStatus(params[0]!, Number(params[1]))),
  ),
  route('POST', `/connectors/${C}/tasks/${N}/restart`, async ({ herder, params }) => {
    await herder.restartTask(params[0]!, Number(params[1]));
    return { status: 204 };
  }),
  route('GET', `/connectors/${C}/topics`, ({ herder, params }) =>
    ok({ [params[0]!]: { topics: herder.connectorTopics(params[0]!) } }),
  ),
  route('PUT', `/connectors/${C}/topics/reset`, ({ herder, params }) => {
    herder.resetConnectorTopics(params[0]!);
    return { status: 202 };
  }),
  route('GET', `/connectors/${C}/offsets`, async ({ herder, params }) => ok(await herder.connectorOffsets(params[0]!))),
  route(
    'PATCH',
    `/connectors/${C}/offsets`,
    async ({ herder, params, body }) => {
      herder.connectorInfo(params[0]!); // 404 before body checks, as Connect
      return ok({ message: await herder.alterConnectorOffsets(params[0]!, (body ?? {}) as ConnectorOffsets) });
    },
    true,
  ),
  route('DELETE', `/connectors/${C}/offsets`, async ({ herder, params }) =>
    ok({ message: await herder.resetConnectorOffsets(params[0]!) }),
  ),
  route('GET', '/connector-plugins', ({ registry, query }) => {
    const connectorsOnly = (query.get('connectorsOnly') ?? 'true').toLowerCase() !== 'false';
    const list = registry
      .list()
      .filter((p) => !HIDDEN_IN_LIST.has(p.type))
      .filter((p) => !connectorsOnly || p.type === 'source' || p.type === 'sink')
      .map(pluginInfo)
      .sort((a, b) => a.class.localeCompare(b.class));
    return ok(list);
  }),
  route('GET', `/connector-plugins/${C}/config`, ({ registry, params }) => {
    const p = findAnyPlugin(registry, params[0]!);
    if (!p) throw new HttpError(404, `Unknown plugin ${params[0]!}.`);
    const own = p.config.configKeys().map(configKeyInfo);
    if (p.type !== 'source' && p.type !== 'sink') return ok(own);
    const names = new Set(own.map((k) => k.name));
    const framework = frameworkConfigDef(p.type, { connector: p.version })
      .configKeys()
      .filter((k) => !names.has(k.name))
      .map(configKeyInfo);
    return ok([...own, ...framework]);
  }),
  route(
    'PUT',
    `/connector-plugins/${C}/config/validate`,
    async ({ herder, params, body }) =>
      ok(await herder.validateConnectorConfig(configMap(body ?? {}, 'Connector config'), params[0]!)),
    true,
  ),
  route('GET', '/admin/loggers', ({ levels }) => ok(levels.explicit())),
  route('GET', `/admin/loggers/${C}`, ({ levels, params }) => {
    const l = levels.get(params[0]!);
    if (!l) throw new HttpError(404, `Logger ${params[0]!} not found.`);
    return ok(l);
  }),
  route(
    'PUT',
    `/admin/loggers/${C}`,
    ({ levels, params, body, query }) => {
      const level = (body as { level?: unknown } | undefined)?.level;
      if (level === undefined || level === null) {
        throw new HttpError(400, "Desired 'level' parameter was not specified in request.");
      }
      if (!isLogLevel(level)) throw new HttpError(404, `invalid log level '${String(level)}'.`);
      const affected = levels.set(params[0]!, String(level).toUpperCase() as LogLevel);
      // Standalone has no cluster to tell: cluster scope applies here and answers like Connect (204).
      return (query.get('scope') ?? 'worker').toLowerCase() === 'cluster' ? { status: 204 } : ok(affected);
    },
    true,
  ),
  ...reconcileRoutes,
  ...consoleRoutes,
  ...operationsRoutes,
  ...consolePageRoutes,
];

import os from 'node:os';
import { parseJsonExact, stringifyJsonExact } from '../../runtime/api/exact-json.js';
import { requestBodySecrets, scrubSecrets } from '../../runtime/api/secrets.js';
import { CliError } from '../errors.js';
import {
  type ConnectCall,
  ConnectApiError,
  ConnectConflictError,
  ConnectUnreachableError,
  connectErrorFor,
} from './errors.js';
import type {
  ConfigInfos,
  ConfigKeyInfo,
  ConnectorConfig,
  ConnectorInfo,
  ConnectorOffsets,
  ConnectorStateInfo,
  ExpandedConnector,
  LoggerLevel,
  Message,
  PluginInfo,
  ServerInfo,
  TargetState,
  TaskState,
} from './types.js';
import { sleep } from '../../runtime/api/sleep.js';

/**
 * A small typed client for the Kafka Connect REST API (Apache Kafka Connect 3.x and erpstream's worker),
 * on Node's fetch. It retries what Connect asks to retry (409 during a rebalance) with backoff, and turns
 * every failure into a typed error that says whether the cluster answered at all.
 */

export type ConnectAuth = { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string };

export interface RetryPolicy {
  /** Give up retrying once this much time has passed since the first attempt (kcctl uses 30 s). */
  maxElapsedMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface RetryNotice {
  attempt: number;
  delayMs: number;
  error: ConnectApiError;
}

export interface ConnectClientOptions {
  url: string;
  auth?: ConnectAuth | undefined;
  /** Per attempt. Connect's own request timeout is 90 s; most calls answer in milliseconds. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Told before each retry (the CLI prints it on stderr so a wait is never silent). */
  onRetry?: (notice: RetryNotice) => void;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_RETRY: RetryPolicy = { maxElapsedMs: 30_000, initialDelayMs: 250, maxDelayMs: 4_000 };

type QueryValue = string | number | boolean | readonly string[] | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
}

export interface ConnectResponse<T> {
  status: number;
  body: T;
}

const UNREACHABLE_STATUSES = new Set([502, 503, 504]);

export class ConnectClient {
  /** The base URL without credentials, safe to print. */
  readonly baseUrl: string;
  private readonly auth: ConnectAuth | undefined;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly onRetry: ((notice: RetryNotice) => void) | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(options: ConnectClientOptions) {
    const { baseUrl, auth } = splitCredentials(options.url);
    this.baseUrl = baseUrl;
    this.auth = options.auth ?? auth;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.onRetry = options.onRetry;
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? sleep;
    this.random = options.random ?? Math.random;
  }

  // ---- server -------------------------------------------------------------------------------------

  async serverInfo(): Promise<ServerInfo> {
    return (await this.request<ServerInfo>('GET', '/')).body;
  }

  // ---- connectors ---------------------------------------------------------------------------------

  async listConnectors(): Promise<string[]> {
    return (await this.request<string[]>('GET', '/connectors')).body;
  }

  /**
   * One call for every connector's status and info (Connect ≥ 2.3; the parameter is repeated, not
   * comma-joined). A worker that ignores `expand` answers with the names only: then ask per connector,
   * skipping connectors deleted meanwhile.
   *
   * Connect leaves a connector out of the expanded answer when its status or info is not found: one created a
   * moment ago has no status until its worker reports one. The plain list still names it, so such a connector is
   * asked for on its own and is never taken for absent (an `integrations delete` right after an apply).
   */
  async listConnectorsExpanded(): Promise<Record<string, ExpandedConnector>> {
    const body = (
      await this.request<Record<string, ExpandedConnector> | string[]>('GET', '/connectors', {
        query: { expand: ['status', 'info'] },
      })
    ).body;
    const out: Record<string, ExpandedConnector> = Array.isArray(body) ? {} : { ...body };
    const missing = (Array.isArray(body) ? body : await this.listConnectors()).filter((name) => !(name in out));
    for (const name of missing) {
      const [status, info] = await Promise.all([
        this.getConnectorStatus(name).catch(ignoreNotFound),
        this.getConnector(name).catch(ignoreNotFound),
      ]);
      if (status || info) out[name] = { ...(status ? { status } : {}), ...(info ? { info } : {}) };
    }
    return out;
  }

  async getConnector(name: string): Promise<ConnectorInfo> {
    return (await this.request<ConnectorInfo>('GET', `/connectors/${seg(name)}`)).body;
  }

  async getConnectorConfig(name: string): Promise<ConnectorConfig> {
    return (await this.request<ConnectorConfig>('GET', `/connectors/${seg(name)}/config`)).body;
  }

  /** The config, or undefined when the connector does not exist (a 404 is an answer here, not an error). */
  async findConnectorConfig(name: string): Promise<ConnectorConfig | undefined> {
    try {
      return await this.getConnectorConfig(name);
    } catch (error) {
      if (error instanceof ConnectApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async createConnector(name: string, config: ConnectorConfig, initialState?: TargetState): Promise<ConnectorInfo> {
    const body = { name, config, ...(initialState ? { initial_state: initialState } : {}) };
    return (await this.request<ConnectorInfo>('POST', '/connectors', { body })).body;
  }

  /** Upsert (`PUT /connectors/{c}/config`): `created` tells a 201 from a 200. */
  async putConnectorConfig(name: string, config: ConnectorConfig): Promise<{ created: boolean; info: ConnectorInfo }> {
    const res = await this.request<ConnectorInfo>('PUT', `/connectors/${seg(name)}/config`, { body: config });
    return { created: res.status === 201, info: res.body };
  }

  async getConnectorStatus(name: string): Promise<ConnectorStateInfo> {
    return (await this.request<ConnectorStateInfo>('GET', `/connectors/${seg(name)}/status`)).body;
  }

  async getTaskStatus(name: string, task: number): Promise<TaskState> {
    return (await this.request<TaskState>('GET', `/connectors/${seg(name)}/tasks/${task}/status`)).body;
  }

  async getConnectorTopics(name: string): Promise<string[]> {
    const body = (await this.request<Record<string, { topics: string[] }>>('GET', `/connectors/${seg(name)}/topics`))
      .body;
    return body[name]?.topics ?? [];
  }

  /**
   * KIP-745 restart. With neither flag Connect restarts only the Connector object and answers 204;
   * otherwise 202 with the status showing what restarts.
   */
  async restartConnector(
    name: string,
    options: { includeTasks?: boolean; onlyFailed?: boolean } = {},
  ): Promise<ConnectorStateInfo | undefined> {
    const res = await this.request<ConnectorStateInfo | undefined>('POST', `/connectors/${seg(name)}/restart`, {
      query: { includeTasks: options.includeTasks || undefined, onlyFailed: options.onlyFailed || undefined },
    });
    return res.status === 202 ? res.body : undefined;
  }

  async restartTask(name: string, task: number): Promise<void> {
    await this.request('POST', `/connectors/${seg(name)}/tasks/${task}/restart`);
  }

  async pauseConnector(name: string): Promise<void> {
    await this.request('PUT', `/connectors/${seg(name)}/pause`);
  }

  async resumeConnector(name: string): Promise<void> {
    await this.request('PUT', `/connectors/${seg(name)}/resume`);
  }

  async stopConnector(name: string): Promise<void> {
    await this.request('PUT', `/connectors/${seg(name)}/stop`);
  }

  async deleteConnector(name: string): Promise<void> {
    await this.request('DELETE', `/connectors/${seg(name)}`);
  }

  // ---- offsets (KIP-875) --------------------------------------------------------------------------

  async getOffsets(name: string): Promise<ConnectorOffsets> {
    return (await this.request<ConnectorOffsets>('GET', `/connectors/${seg(name)}/offsets`)).body;
  }

  async alterOffsets(name: string, offsets: ConnectorOffsets): Promise<Message> {
    return (await this.request<Message>('PATCH', `/connectors/${seg(name)}/offsets`, { body: offsets })).body;
  }

  async resetOffsets(name: string): Promise<Message> {
    return (await this.request<Message>('DELETE', `/connectors/${seg(name)}/offsets`)).body;
  }

  // ---- plugins ------------------------------------------------------------------------------------

  async listPlugins(connectorsOnly = true): Promise<PluginInfo[]> {
    return (await this.request<PluginInfo[]>('GET', '/connector-plugins', { query: { connectorsOnly } })).body;
  }

  async getPluginConfig(plugin: string): Promise<ConfigKeyInfo[]> {
    return (await this.request<ConfigKeyInfo[]>('GET', `/connector-plugins/${seg(plugin)}/config`)).body;
  }

  /** Always 200 with per-key errors (`error_count` > 0 when invalid); 400 only when `connector.class` is missing. */
  async validateConfig(plugin: string, config: ConnectorConfig): Promise<ConfigInfos> {
    return (
      await this.request<ConfigInfos>('PUT', `/connector-plugins/${seg(plugin)}/config/validate`, { body: config })
    ).body;
  }

  // ---- loggers (KIP-495, KIP-976) -----------------------------------------------------------------

  async listLoggers(): Promise<Record<string, LoggerLevel>> {
    return (await this.request<Record<string, LoggerLevel>>('GET', '/admin/loggers')).body;
  }

  async getLogger(name: string): Promise<LoggerLevel> {
    return (await this.request<LoggerLevel>('GET', `/admin/loggers/${seg(name)}`)).body;
  }

  /** `scope=worker` answers with the loggers it changed; `scope=cluster` answers 204 (applied asynchronously). */
  async setLogger(name: string, level: string, scope: 'worker' | 'cluster' = 'worker'): Promise<string[] | undefined> {
    const res = await this.request<string[] | undefined>('PUT', `/admin/loggers/${seg(name)}`, {
      query: scope === 'cluster' ? { scope } : {},
      body: { level },
    });
    return res.status === 204 ? undefined : res.body;
  }

  // ---- transport ----------------------------------------------------------------------------------

  /** One REST call, retried while Connect answers "rebalance in progress"; throws typed errors. */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<ConnectResponse<T>> {
    const pathWithQuery = path + queryString(options.query);
    const call: ConnectCall = { method, path: pathWithQuery, baseUrl: this.baseUrl };
    const started = Date.now();
    let waited = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(call, options.body);
      } catch (error) {
        if (!(error instanceof ConnectApiError) || !isRetriable(error)) throw error;
        const delayMs = this.backoff(attempt);
        // Time spent so far counts the waits even when `sleep` is instant (tests).
        if (Math.max(Date.now() - started, waited) + delayMs > this.retry.maxElapsedMs) throw error;
        this.onRetry?.({ attempt, delayMs, error });
        await this.sleep(delayMs);
        waited += delayMs;
      }
    }
  }

  private async once<T>(call: ConnectCall, body: unknown): Promise<ConnectResponse<T>> {
    // Who runs the CLI, for the erpstream operations audit log (recorded as claimed; the REST auth is what proves it).
    const headers: Record<string, string> = { accept: 'application/json', 'x-erpstream-user': localUser() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.auth?.kind === 'basic') {
      headers.authorization = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}`;
    } else if (this.auth?.kind === 'bearer') {
      headers.authorization = `Bearer ${this.auth.token}`;
    }
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.baseUrl + call.path, {
        method: call.method,
        headers,
        ...(body === undefined ? {} : { body: stringifyJsonExact(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (error) {
      let reason = describeNetworkFailure(error, this.timeoutMs);
      if (call.method !== 'GET' && reason.startsWith('no answer')) {
        reason += '; the change may still have been made: check before retrying';
      }
      throw new ConnectUnreachableError(call, reason, error);
    }
    if (res.ok) {
      return { status: res.status, body: (text.trim() === '' ? undefined : parseBody(text, call, res.status)) as T };
    }
    const errorBody = connectErrorBody(text, res.status);
    // Connect echoes configs in some messages ("Connector config {…} contains no connector type", "Invalid
    // value … for configuration …"): the request's secrets never reach the screen that way.
    errorBody.message = scrubSecrets(errorBody.message, requestBodySecrets(body));
    if (UNREACHABLE_STATUSES.has(res.status)) {
      throw new ConnectUnreachableError(call, `HTTP ${res.status} (${errorBody.message})`);
    }
    throw connectErrorFor(call, res.status, errorBody);
  }

  /** Exponential backoff with jitter, so several CLIs retrying together do not hit the leader in step. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.initialDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }
}

/**
 * 409 means the write did not happen (rebalance, no known leader, stale config), so retrying is safe;
 * "already exists" is final. Reads during a rebalance surface as 500 "...rebalance is expected".
 */
export function isRetriable(error: ConnectApiError): boolean {
  if (error instanceof ConnectConflictError) return !error.alreadyExists;
  return error.status === 500 && /rebalance/i.test(error.connectMessage);
}

function ignoreNotFound(error: unknown): undefined {
  if (error instanceof ConnectApiError && error.status === 404) return undefined;
  throw error;
}

/** `user@host` of whoever runs the CLI (ASCII only: it travels in a header). */
function localUser(): string {
  let user = process.env.USER ?? process.env.USERNAME ?? '';
  try {
    user ||= os.userInfo().username;
  } catch {
    // No passwd entry (containers): the host still says where it came from.
  }
  return `${user || 'unknown'}@${os.hostname()}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

/** Connect names and logger names go in the path as one segment each. */
function seg(value: string): string {
  return encodeURIComponent(value);
}

function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value as readonly string[]) params.append(key, v);
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** fetch refuses URLs with credentials, and they must never be printed: move them into basic auth. */
export function splitCredentials(url: string): { baseUrl: string; auth: ConnectAuth | undefined } {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw CliError.invalidInput(
      `The Kafka Connect URL "${url.replace(/\/\/[^@/]*@/, '//')}" is not an http(s) URL.`,
      'Give the worker REST URL, e.g. --connect-url http://127.0.0.1:8083.',
    );
  }
  const auth: ConnectAuth | undefined =
    parsed.username !== ''
      ? {
          kind: 'basic',
          username: decodeURIComponent(parsed.username),
          password: decodeURIComponent(parsed.password),
        }
      : undefined;
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  return { baseUrl: parsed.toString().replace(/\/+$/, ''), auth };
}

function parseBody(text: string, call: ConnectCall, status: number): unknown {
  try {
    // Exact parsing keeps 64-bit offsets (kafka_offset, LSNs) intact.
    return parseJsonExact(text);
  } catch {
    throw connectErrorFor(call, status, {
      message: `the answer is not JSON (${snippet(text)}); is this a Kafka Connect REST endpoint?`,
    });
  }
}

function connectErrorBody(text: string, status: number): { error_code?: number; message: string } {
  try {
    const body = JSON.parse(text) as { error_code?: unknown; message?: unknown };
    if (body && typeof body.message === 'string') {
      return { ...(typeof body.error_code === 'number' ? { error_code: body.error_code } : {}), message: body.message };
    }
  } catch {
    // Not Connect's error shape (a proxy page, another service): show the start of it.
  }
  return { message: text.trim() === '' ? `HTTP ${status} with an empty body` : snippet(text) };
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens on that port)',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (DNS temporarily unavailable)',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection closed unexpectedly',
};

function describeNetworkFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms (raise it with --timeout)`;
  }
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && NETWORK_REASONS[code]) return NETWORK_REASONS[code]!;
    if (/certificate|SSL|TLS/i.test(e.message)) return `TLS failed: ${e.message}`;
  }
  const deepest = innermost(error);
  return deepest instanceof Error ? deepest.message : String(deepest);
}

function innermost(error: unknown): unknown {
  let e = error;
  for (let depth = 0; e instanceof Error && e.cause !== undefined && depth < 5; depth++) e = e.cause;
  return e;
}

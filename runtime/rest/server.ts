import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from '../api/index.js';
import type { LogLevelRegistry } from '../logging/index.js';
import type { WorkerMetrics } from '../worker/metrics.js';
import type { Herder } from '../worker/herder-types.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { HttpError, matchRoute, routes, type RouteContext } from './routes.js';
import type { ConsoleState } from './routes-console-page.js';
import { type RequestTarget, parseRequestTarget } from './request-target.js';
import { accepts, allowedMethods } from './negotiation.js';
import { requestSecrets } from './request-secrets.js';
import { scrubSecrets } from '../api/index.js';
import type { OpsServices } from './ops.js';
import type { OperationsLog } from '../operations/audit-log.js';
import { requestPrincipal } from './principal.js';
import { httpStatusOf } from './error-status.js';

export interface RestServerOptions {
  herder: Herder;
  registry: PluginRegistry;
  levels: LogLevelRegistry;
  logger: Logger;
  metrics?: WorkerMetrics;
  host: string;
  port: number;
  maxBodyBytes: number;
  /** The version reported at GET / (numeric X.Y.Z: tools parse it). */
  version: string;
  commit: string;
  auth?: RestAuth;
  /** Serve HTTPS instead of HTTP. */
  tls?: RestTls;
  /** The operations console's page switch and metric history (runtime/rest/routes-console-page.ts). */
  console?: ConsoleState;
  /** Services of the /erpstream/v1 operations endpoints (runtime/rest/ops.ts); closed with the server. */
  ops?: OpsServices;
  /** The cluster-wide operations audit log (`/erpstream/v1/operations`). */
  operations?: OperationsLog;
}

export type RestAuth = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

export interface RestTls {
  key: string;
  cert: string;
  passphrase?: string;
  /** CA certificates that client certificates must chain to. */
  ca?: string;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/** The Kafka Connect REST API on node:http. Every error is `{error_code, message}`; never a stack trace. */
export class RestServer {
  private server: Server | null = null;

  constructor(private readonly o: RestServerOptions) {}

  async start(): Promise<{ host: string; port: number; url: string }> {
    // The one guard: whatever routing or a handler throws ends as an error answer, never as a rejection that
    // Node would turn into the end of the process.
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((e: unknown) => this.lastChance(req, res, e));
    };
    const server: Server = this.o.tls ? createTlsServer(this.o.tls, handler) : createServer(handler);
    server.keepAliveTimeout = 5000;
    server.on('clientError', (e: NodeJS.ErrnoException, socket: Socket) => this.clientError(e, socket));
    // Node hands CONNECT to a 'connect' listener and, without one, drops the connection unanswered.
    server.on('connect', (_req: IncomingMessage, socket: Socket) =>
      // Never shown: a stand-in parser error for clientError(), which answers by its code.
      this.clientError(Object.assign(new Error('CONNECT'), { code: 'HPE_INVALID_METHOD' }), socket),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    // Accept errors (EMFILE, …) after listen: log them; the server keeps listening.
    server.on('error', (e) => this.o.logger.error('REST server error', { error: e }));
    this.o.console?.history.start();
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return { host: addr.address, port: addr.port, url: `${this.o.tls ? 'https' : 'http'}://${host}:${addr.port}` };
  }

  async stop(): Promise<void> {
    this.o.console?.history.stop();
    const s = this.server;
    this.server = null;
    await this.o.ops?.close().catch(() => {});
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeIdleConnections();
    });
  }

  private authorized(req: IncomingMessage): boolean {
    const auth = this.o.auth;
    if (!auth) return true;
    // RFC 7235: the scheme is case-insensitive ("basic", "BEARER"); the credentials are compared exactly.
    const header = (req.headers.authorization ?? '').trim();
    const space = header.search(/\s/);
    if (space < 0 || header.slice(0, space).toLowerCase() !== auth.type) return false;
    const credentials = header.slice(space).trim();
    const expected =
      auth.type === 'basic' ? Buffer.from(`${auth.username}:${auth.password}`).toString('base64') : auth.token;
    const a = Buffer.from(credentials);
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    let status = 500;
    let target: RequestTarget | undefined;
    let body: unknown;
    try {
      // Credentials first: nothing of the request (not even its path) is looked at without them.
      if (!this.authorized(req)) {
        res.setHeader('WWW-Authenticate', this.o.auth?.type === 'basic' ? 'Basic realm="erpstream"' : 'Bearer');
        throw new HttpError(401, 'Unauthorized');
      }
      target = parseRequestTarget(req.url);
      const method = (req.method ?? 'GET').toUpperCase();
      const matching = routes.flatMap((route) => {
        const params = matchRoute(route, target!.raw, target!.decoded);
        return params ? [{ route, params }] : [];
      });
      if (matching.length === 0) throw new HttpError(404, 'HTTP 404 Not Found');
      if (method === 'OPTIONS') {
        // Jersey's automatic OPTIONS: the methods of the matched resource, 200 text/plain.
        const allowed = allowedMethods(matching.map((m) => m.route.method));
        res.setHeader('Allow', allowed.join(','));
        status = 200;
        this.send(res, 200, allowed.join(', '), 'text/plain');
        return;
      }
      // Jersey answers HEAD with the GET resource, headers only (Node leaves the body out for HEAD).
      const found = matching.find((m) => m.route.method === (method === 'HEAD' ? 'GET' : method));
      if (!found) throw new HttpError(405, 'HTTP 405 Method Not Allowed');
      if (!accepts(req.headers.accept, found.route.produces)) throw new HttpError(406, 'HTTP 406 Not Acceptable');
      const ctx: RouteContext = {
        params: found.params,
        query: target.query,
        body: (body = found.route.body ? await this.readJson(req) : undefined),
        herder: this.o.herder,
        registry: this.o.registry,
        levels: this.o.levels,
        server: {
          version: this.o.version,
          commit: this.o.commit,
          metrics: this.o.metrics,
          ...(this.o.console ? { console: this.o.console } : {}),
        },
        res,
        ...(this.o.ops ? { ops: this.o.ops } : {}),
        principal: requestPrincipal(req, this.o.auth),
        operations: this.o.operations,
      };
      const result = await found.route.handler(ctx);
      status = result.status;
      this.send(res, result.status, result.body, result.contentType);
    } catch (e) {
      const { status: s, message: raw } = toErrorBody(e);
      // Whatever produced the message (us, a herder, a connector), it never repeats a secret of the request.
      const message = scrubSecrets(raw, requestSecrets(this.o.registry, body));
      status = s;
      if (s >= 500) {
        this.o.logger.error(`REST request failed: ${req.method} ${target?.path ?? '?'}`, {
          error: { class: (e as Error).name, message },
        });
      }
      if (!res.headersSent) this.send(res, s, { error_code: s, message });
      else res.end();
    } finally {
      this.o.logger.debug('REST request', {
        method: req.method,
        path: target?.path,
        status,
        ms: Date.now() - started,
      });
    }
  }

  /** What the guard does when even the error answer failed: log, answer 500 if nothing was sent, else drop. */
  private lastChance(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    try {
      this.o.logger.error(`REST request failed unexpectedly: ${req.method}`, { error: e });
      if (!res.headersSent) this.send(res, 500, { error_code: 500, message: 'Internal server error' });
      else res.destroy();
    } catch {
      res.destroy();
    }
  }

  /**
   * A request Node's HTTP parser refused (bad method, bad header, bad request line). Node would answer an
   * empty 400; Connect (Jetty) answers an unknown method with 405 JSON, so we do too, and every other parser
   * error with a 400 in the same `{error_code, message}` shape.
   */
  private clientError(e: NodeJS.ErrnoException, socket: Socket): void {
    try {
      if (!socket.writable || e.code === 'ECONNRESET') {
        socket.destroy();
        return;
      }
      const [status, reason, message] =
        e.code === 'HPE_INVALID_METHOD'
          ? [405, 'Method Not Allowed', 'HTTP 405 Method Not Allowed']
          : e.code === 'HPE_HEADER_OVERFLOW'
            ? [431, 'Request Header Fields Too Large', 'HTTP 431 Request Header Fields Too Large']
            : e.code === 'ERR_HTTP_REQUEST_TIMEOUT'
              ? [408, 'Request Timeout', 'HTTP 408 Request Timeout']
              : [400, 'Bad Request', `HTTP 400 Bad Request: ${clientErrorReason(e)}`];
      const body = JSON.stringify({ error_code: status, message });
      socket.end(
        `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      socket.destroySoon();
    } catch {
      socket.destroy();
    }
  }

  private send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
    res.statusCode = status;
    if (body === undefined || status === 204) {
      res.end();
      return;
    }
    const text = typeof body === 'string' && contentType !== 'application/json' ? body : JSON.stringify(body);
    res.setHeader('Content-Type', contentType);
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  }

  /** Reads a JSON body under the size limit. Jersey answers a non-JSON content type with 415. */
  private async readJson(req: IncomingMessage): Promise<unknown> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.o.maxBodyBytes) {
      req.resume();
      throw new HttpError(413, `Request body is larger than ${this.o.maxBodyBytes} bytes (rest.request.max.bytes)`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > this.o.maxBodyBytes) {
        throw new HttpError(413, `Request body is larger than ${this.o.maxBodyBytes} bytes (rest.request.max.bytes)`);
      }
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '' && type === '') return undefined;
    if (type !== 'application/json') throw new HttpError(415, 'HTTP 415 Unsupported Media Type');
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      // Connect answers 500 with Jackson's parser message; a client error deserves a 4xx.
      throw new HttpError(400, `Invalid JSON in request body: ${jsonErrorWithoutBody((e as Error).message)}`);
    }
  }
}

/**
 * V8's JSON.parse message, without the piece of the body it quotes when it cannot name a position ("Unexpected token
 * 'T', ..."password":TopSecret-"... is not valid JSON"): a body that is not JSON is not scrubbed of the secrets it
 * holds (an unquoted password), so none of it is repeated. Messages that name a position say nothing of the body.
 */
function jsonErrorWithoutBody(message: string): string {
  if (!/ is not valid JSON$/.test(message)) return message;
  return 'unexpected token (the body is left out of this message: it may hold a secret)';
}

/** The parser's reason, without the raw bytes it quotes (they may hold anything, credentials included). */
function clientErrorReason(e: NodeJS.ErrnoException): string {
  return (e.code ?? 'malformed request').replace(/^HPE_/, '').toLowerCase().replace(/_/g, ' ');
}

function toErrorBody(e: unknown): { status: number; message: string } {
  // The edge's own answers (HttpError: body size, media type, a route's input checks) carry their status.
  const status = (e as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 600) {
    return { status, message: (e as Error).message };
  }
  const mapped = httpStatusOf(e);
  if (mapped !== undefined) return { status: mapped, message: (e as Error).message };
  return { status: 500, message: e instanceof Error ? e.message : String(e) };
}

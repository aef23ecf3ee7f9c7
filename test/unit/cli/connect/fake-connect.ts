import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A scripted HTTP server answering like Kafka Connect, for unit tests of rendering and error paths.
 * The same commands run against real Apache Kafka Connect 3.9 in test/integration/cli/.
 */

export interface FakeAnswer {
  status: number;
  body?: unknown;
  /** Sent verbatim instead of JSON (e.g. an HTML error page). */
  raw?: string;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Route = FakeAnswer | FakeAnswer[] | ((req: SeenRequest) => FakeAnswer);

export interface FakeConnect {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** Routes are keyed "METHOD /path?query"; an array answers in turn (the last one repeats). */
export async function startFakeConnect(routes: Record<string, Route>): Promise<FakeConnect> {
  const requests: SeenRequest[] = [];
  const counters = new Map<string, number>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const seen = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body };
      requests.push(seen);
      const key = `${seen.method} ${seen.url}`;
      const route = routes[key];
      let answer: FakeAnswer;
      if (route === undefined) {
        answer = { status: 404, body: { error_code: 404, message: `HTTP 404 Not Found (no fake route for ${key})` } };
      } else if (typeof route === 'function') {
        answer = route(seen);
      } else if (Array.isArray(route)) {
        const n = counters.get(key) ?? 0;
        counters.set(key, n + 1);
        answer = route[Math.min(n, route.length - 1)]!;
      } else {
        answer = route;
      }
      const text = answer.raw ?? (answer.body === undefined ? '' : JSON.stringify(answer.body));
      res.writeHead(answer.status, { 'content-type': answer.raw ? 'text/html' : 'application/json' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A local port nothing listens on (it was free a moment ago): connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

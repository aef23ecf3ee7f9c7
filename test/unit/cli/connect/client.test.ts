import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectClient, splitCredentials } from '../../../../cli/connect/client.js';
import type { ConnectApiError } from '../../../../cli/connect/errors.js';
import {
  ConnectBadRequestError,
  ConnectConflictError,
  ConnectNotFoundError,
  ConnectUnreachableError,
} from '../../../../cli/connect/errors.js';
import { classifyError } from '../../../../cli/errors.js';
import { type FakeConnect, closedPort, startFakeConnect } from './fake-connect.js';

const REBALANCE = {
  status: 409,
  body: {
    error_code: 409,
    message: 'Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.',
  },
};
const STATUS = {
  name: 'orders',
  connector: { state: 'RUNNING', worker_id: '10.0.0.5:8083' },
  tasks: [{ id: 0, state: 'RUNNING', worker_id: '10.0.0.5:8083' }],
  type: 'source',
};

let fake: FakeConnect | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function client(url: string, extra: Partial<ConstructorParameters<typeof ConnectClient>[0]> = {}) {
  const sleeps: number[] = [];
  const c = new ConnectClient({
    url,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 1,
    ...extra,
  });
  return { c, sleeps };
}

describe('ConnectClient retries', () => {
  it('retries 409 "rebalance in progress" with growing backoff, then returns the answer', async () => {
    fake = await startFakeConnect({
      'PUT /connectors/orders/pause': [REBALANCE, REBALANCE, REBALANCE, { status: 202 }],
    });
    const notices: number[] = [];
    const { c, sleeps } = client(fake.url, { onRetry: (n) => notices.push(n.error.status) });
    await c.pauseConnector('orders');
    expect(fake.requests).toHaveLength(4);
    expect(sleeps).toEqual([250, 500, 1000]);
    expect(notices).toEqual([409, 409, 409]);
  });

  it('does not retry "already exists": it is final', async () => {
    fake = await startFakeConnect({
      'POST /connectors': { status: 409, body: { error_code: 409, message: 'Connector orders already exists' } },
    });
    const { c, sleeps } = client(fake.url);
    const error = await c.createConnector('orders', { 'connector.class': 'X' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectConflictError);
    expect((error as ConnectConflictError).alreadyExists).toBe(true);
    expect(sleeps).toEqual([]);
    expect((error as ConnectApiError).hint).toContain('connectors apply');
  });

  it('gives up once the retry budget is spent and reports the last 409', async () => {
    fake = await startFakeConnect({ 'DELETE /connectors/orders': REBALANCE });
    const { c, sleeps } = client(fake.url, { retry: { maxElapsedMs: 2_000, initialDelayMs: 400, maxDelayMs: 800 } });
    const error = await c.deleteConnector('orders').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectConflictError);
    expect(sleeps).toEqual([400, 800, 800]); // a fourth wait would pass the 2 s budget (fake sleeps count as waited)
    expect(classifyError(error).exitCode).toBe(1);
  });

  it('retries reads that answer 500 "rebalance is expected" (Connect does not map those to 409)', async () => {
    fake = await startFakeConnect({
      'GET /connectors/orders/config': [
        {
          status: 500,
          body: { error_code: 500, message: 'Request cannot be completed because a rebalance is expected' },
        },
        { status: 200, body: { name: 'orders' } },
      ],
    });
    expect(await client(fake.url).c.getConnectorConfig('orders')).toEqual({ name: 'orders' });
  });
});

describe('ConnectClient errors', () => {
  it("maps 404 to ConnectNotFoundError carrying Connect's error_code and message (exit 1)", async () => {
    fake = await startFakeConnect({
      'GET /connectors/nope': { status: 404, body: { error_code: 404, message: 'Connector nope not found' } },
    });
    const error = (await client(fake.url)
      .c.getConnector('nope')
      .catch((e: unknown) => e)) as ConnectNotFoundError;
    expect(error).toBeInstanceOf(ConnectNotFoundError);
    expect(error.errorCode).toBe(404);
    expect(error.connectMessage).toBe('Connector nope not found');
    expect(error.message).toBe(
      `Kafka Connect at ${fake.url} answered 404 to GET /connectors/nope: Connector nope not found`,
    );
    expect(classifyError(error)).toMatchObject({
      exitCode: 1,
      hint: '`erpstream connectors list` shows the connectors that exist.',
    });
  });

  it('tells an endpoint the worker lacks (an older Connect) from a missing connector', async () => {
    fake = await startFakeConnect({
      'PUT /connectors/a/stop': { status: 404, body: { error_code: 404, message: 'HTTP 404 Not Found' } },
    });
    const error = await client(fake.url)
      .c.stopConnector('a')
      .catch((e: unknown) => e);
    expect(classifyError(error).hint).toMatch(/This worker has no such endpoint: it may be older/);
  });

  it('says an /erpstream/v1 endpoint needs an erpstream worker when plain Kafka Connect answers 404', async () => {
    fake = await startFakeConnect({
      'GET /erpstream/v1/operations': { status: 404, body: { error_code: 404, message: 'HTTP 404 Not Found' } },
    });
    const error = await client(fake.url)
      .c.request('GET', '/erpstream/v1/operations')
      .catch((e: unknown) => e);
    const hint = classifyError(error).hint;
    expect(hint).toMatch(/Only an erpstream worker has \/erpstream\/v1 endpoints/);
    expect(hint).toMatch(/ERPSTREAM_CONNECT_URL/);
  });

  it('does not send a refused /erpstream/v1 argument to the config-key hint', async () => {
    fake = await startFakeConnect({
      'GET /erpstream/v1/lineage': {
        status: 400,
        body: { error_code: 400, message: 'Several entities are delivered (document, phone): give entity' },
      },
    });
    const error = await client(fake.url)
      .c.request('GET', '/erpstream/v1/lineage')
      .catch((e: unknown) => e);
    expect(classifyError(error)).toMatchObject({ exitCode: 2 });
    expect(classifyError(error).hint).not.toMatch(/config keys/);
  });

  it('maps 400 (invalid config) to exit 2', async () => {
    const message =
      'Connector configuration is invalid and contains the following 1 error(s):\nMissing required configuration "topic" which has no default value.';
    fake = await startFakeConnect({ 'PUT /connectors/a/config': { status: 400, body: { error_code: 400, message } } });
    const error = await client(fake.url)
      .c.putConnectorConfig('a', { 'connector.class': 'X' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectBadRequestError);
    expect(classifyError(error).exitCode).toBe(2);
    expect((error as Error).message).toContain('Missing required configuration "topic"');
  });

  it('maps connection refused to ConnectUnreachableError (exit 3)', async () => {
    const port = await closedPort();
    const error = await client(`http://127.0.0.1:${port}`)
      .c.listConnectors()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectUnreachableError);
    expect((error as Error).message).toBe(
      `Cannot reach Kafka Connect at http://127.0.0.1:${port} (GET /connectors): connection refused (nothing listens on that port).`,
    );
    expect(classifyError(error).exitCode).toBe(3);
  });

  it('maps a server that never answers to exit 3 after the timeout', async () => {
    const server = createServer(() => {}); // accepts and hangs
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const error = await client(`http://127.0.0.1:${port}`, { timeoutMs: 200 })
        .c.serverInfo()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectUnreachableError);
      expect((error as Error).message).toContain('no answer within 200 ms');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('treats a gateway error (502/503/504) as unreachable', async () => {
    fake = await startFakeConnect({ 'GET /connectors': { status: 503, raw: '<html>Service Unavailable</html>' } });
    const error = await client(fake.url)
      .c.listConnectors()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectUnreachableError);
    expect((error as Error).message).toContain('HTTP 503 (<html>Service Unavailable</html>)');
  });

  it('says so when the answer is not JSON (not a Connect endpoint)', async () => {
    fake = await startFakeConnect({ 'GET /connectors': { status: 200, raw: '<html>hello</html>' } });
    const error = await client(fake.url)
      .c.listConnectors()
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain(
      'the answer is not JSON (<html>hello</html>); is this a Kafka Connect REST endpoint?',
    );
  });
});

describe('ConnectClient requests', () => {
  it('moves URL credentials into basic auth and never prints them', async () => {
    fake = await startFakeConnect({
      'GET /connectors/x': { status: 404, body: { error_code: 404, message: 'Connector x not found' } },
    });
    const url = fake.url.replace('http://', 'http://ops:s3cr%40t@');
    const { c } = client(url);
    expect(c.baseUrl).toBe(fake.url);
    const error = (await c.getConnector('x').catch((e: unknown) => e)) as Error;
    expect(fake.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('ops:s3cr@t').toString('base64')}`);
    expect(error.message).not.toContain('s3cr');
  });

  it('sends a bearer token', async () => {
    fake = await startFakeConnect({ 'GET /connectors': { status: 200, body: [] } });
    await client(fake.url, { auth: { kind: 'bearer', token: 'tok' } }).c.listConnectors();
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer tok');
  });

  it('repeats the expand parameter (Connect ignores "status,info") and encodes names as one path segment', async () => {
    fake = await startFakeConnect({
      'GET /connectors?expand=status&expand=info': { status: 200, body: { orders: { status: STATUS } } },
      'GET /connectors': { status: 200, body: ['orders'] },
      'GET /connectors/a%2Fb%20c/status': { status: 200, body: STATUS },
    });
    const { c } = client(fake.url);
    expect(Object.keys(await c.listConnectorsExpanded())).toEqual(['orders']);
    expect((await c.getConnectorStatus('a/b c')).name).toBe('orders');
  });

  it('falls back to one call per connector when the worker ignores expand (Connect < 2.3)', async () => {
    fake = await startFakeConnect({
      'GET /connectors?expand=status&expand=info': { status: 200, body: ['orders', 'gone'] },
      'GET /connectors/orders/status': { status: 200, body: STATUS },
      'GET /connectors/orders': { status: 200, body: { name: 'orders', config: {}, tasks: [], type: 'source' } },
      'GET /connectors/gone/status': {
        status: 404,
        body: { error_code: 404, message: 'No status found for connector gone' },
      },
      'GET /connectors/gone': { status: 404, body: { error_code: 404, message: 'Connector gone not found' } },
    });
    const expanded = await client(fake.url).c.listConnectorsExpanded();
    expect(expanded).toEqual({
      orders: { status: STATUS, info: { name: 'orders', config: {}, tasks: [], type: 'source' } },
    });
  });

  it('asks for a connector the expanded answer left out (created a moment ago, no status yet)', async () => {
    const info = { name: 'fresh', config: { 'erpstream.io/integration': 'acme' }, tasks: [], type: 'sink' };
    fake = await startFakeConnect({
      'GET /connectors?expand=status&expand=info': { status: 200, body: { orders: { status: STATUS } } },
      'GET /connectors': { status: 200, body: ['orders', 'fresh'] },
      'GET /connectors/fresh/status': {
        status: 404,
        body: { error_code: 404, message: 'No status found for connector fresh' },
      },
      'GET /connectors/fresh': { status: 200, body: info },
    });
    const expanded = await client(fake.url).c.listConnectorsExpanded();
    expect(expanded).toEqual({ orders: { status: STATUS }, fresh: { info } });
  });

  it('keeps 64-bit offsets exact both ways', async () => {
    const text =
      '{"offsets":[{"partition":{"kafka_topic":"t","kafka_partition":0},"offset":{"kafka_offset":9007199254740993}}]}';
    fake = await startFakeConnect({
      'GET /connectors/s/offsets': { status: 200, raw: text },
      'PATCH /connectors/s/offsets': {
        status: 200,
        body: { message: 'The offsets for this connector have been altered successfully' },
      },
    });
    const { c } = client(fake.url);
    const offsets = await c.getOffsets('s');
    expect(offsets.offsets[0]!.offset).toEqual({ kafka_offset: 9007199254740993n });
    await c.alterOffsets('s', offsets);
    expect(fake.requests[1]!.body).toBe(text);
  });

  it('tells a 201 create from a 200 update on PUT config, and 204/202 restarts apart', async () => {
    fake = await startFakeConnect({
      'PUT /connectors/a/config': [
        { status: 201, body: { name: 'a', config: {}, tasks: [], type: 'source' } },
        { status: 200, body: { name: 'a', config: {}, tasks: [], type: 'source' } },
      ],
      'POST /connectors/a/restart': { status: 204 },
      'POST /connectors/a/restart?includeTasks=true&onlyFailed=true': { status: 202, body: STATUS },
    });
    const { c } = client(fake.url);
    expect((await c.putConnectorConfig('a', {})).created).toBe(true);
    expect((await c.putConnectorConfig('a', {})).created).toBe(false);
    expect(await c.restartConnector('a')).toBeUndefined();
    expect(await c.restartConnector('a', { includeTasks: true, onlyFailed: true })).toEqual(STATUS);
  });

  it('rejects a URL that is not http(s) as invalid input', () => {
    expect(() => splitCredentials('localhost:8083')).toThrow(/not an http\(s\) URL/);
    expect(
      classifyError(
        (() => {
          try {
            splitCredentials('ftp://x');
          } catch (e) {
            return e;
          }
        })(),
      ).exitCode,
    ).toBe(2);
  });
});

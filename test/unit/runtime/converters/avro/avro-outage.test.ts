import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DataError, RetriableError, Schemas } from '../../../../../runtime/api/index.js';
import { AvroConverter } from '../../../../../runtime/converters/avro/avro-converter.js';

/**
 * The AvroConverter while its registry is out, against a stand-in that speaks raw TCP (so it can also hang, drop the
 * connection after the headers, or answer with something that is not HTTP). The promise: an outage is retriable, is
 * never remembered as the registry's answer (no negative cache, no refusal cache, no schema id made up), and the
 * record reads or writes with the right schema as soon as the registry answers again.
 */
type Mode =
  | 'ok' // a registry: ids 1..99 are "long", others 404; register/lookup answer id 7
  | 'hang' // accepts the connection, reads the request, never answers
  | 'headers-then-drop' // 200 headers and half a body, then closes the connection
  | 'not-http' // answers bytes that are not HTTP
  | 'html-200' // a proxy's maintenance page with status 200
  | 'empty-200' // 200 with {}
  | '503';

let mode: Mode = 'ok';
let requests = 0;
let server: net.Server;
let url = '';
const sockets = new Set<net.Socket>();

const send = (sock: net.Socket, status: string, body: string, type = 'application/json') =>
  sock.end(
    `HTTP/1.1 ${status}\r\ncontent-type: ${type}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );

beforeAll(async () => {
  server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let head = '';
    sock.on('data', (chunk) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      requests++;
      const path = /^[A-Z]+ (\S+)/.exec(head)?.[1] ?? '';
      switch (mode) {
        case 'hang':
          return;
        case 'headers-then-drop':
          sock.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{"sche');
          setTimeout(() => sock.destroy(), 200);
          return;
        case 'not-http':
          return void sock.end('SSH-2.0-OpenSSH_9.6\r\n\r\n');
        case 'html-200':
          return send(sock, '200 OK', '<html>Down for maintenance</html>', 'text/html');
        case 'empty-200':
          return send(sock, '200 OK', '{}');
        case '503':
          return send(sock, '503 Service Unavailable', '{"error_code":50301,"message":"unavailable"}');
        case 'ok': {
          const id = /\/schemas\/ids\/(\d+)$/.exec(path)?.[1];
          if (id !== undefined) {
            return Number(id) < 100
              ? send(sock, '200 OK', JSON.stringify({ schema: '"long"' }))
              : send(sock, '404 Not Found', '{"error_code":40403,"message":"Schema not found"}');
          }
          return send(sock, '200 OK', JSON.stringify({ id: 7, version: 1, subject: 't-value', schema: '"long"' }));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/reg`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  vi.restoreAllMocks();
  mode = 'ok';
  requests = 0;
  for (const s of sockets) s.destroy();
});

// Wide enough that the 50 concurrent calls of a test all join the first request on a loaded CI machine (CI once saw a
// second request at 300 ms).
const TIMEOUT = 1000;
const converter = (props: Record<string, string> = {}) => {
  const c = new AvroConverter();
  c.configure({ 'schema.registry.url': url, 'schema.registry.request.timeout.ms': String(TIMEOUT), ...props }, false);
  return c;
};
/** The wire format with a long 1 as body. */
const framed = (id: number) => {
  const b = Buffer.from([0, 0, 0, 0, 0, 2]);
  b.writeInt32BE(id, 1);
  return b;
};
const settle = <T>(p: Promise<T>) =>
  p.then(
    (v) => ({ ok: v }),
    (e: unknown) => ({ error: e }),
  );
/** Records of the id (and of the write), all at once and one after another: what a task's batch does. */
const read = (c: AvroConverter, id: number) => settle(c.toConnectData('t', [], framed(id)));
const write = (c: AvroConverter) => settle(c.fromConnectData('t', [], Schemas.INT64, 1n));

describe('AvroConverter reading while the registry is out', () => {
  for (const outage of ['hang', 'headers-then-drop'] as const) {
    it(`${outage}: the read fails as retriable within the timeout (concurrent records share one request), then reads once the registry answers`, async () => {
      const c = converter();
      mode = outage;
      const t0 = Date.now();
      const results = await Promise.all(Array.from({ length: 50 }, () => read(c, 5)));
      expect(Date.now() - t0).toBeLessThan(TIMEOUT * 5);
      for (const r of results) expect((r as { error: unknown }).error).toBeInstanceOf(RetriableError);
      expect(requests).toBe(1);
      mode = 'ok';
      // Not remembered as missing, not stuck on the request that never ended.
      expect(await read(c, 5)).toEqual({ ok: expect.objectContaining({ value: 1n }) });
    }, 10_000);

    it(`${outage}: a write fails as retriable within the timeout, then writes with the registry's id`, async () => {
      const c = converter();
      mode = outage;
      const results = await Promise.all(Array.from({ length: 50 }, () => write(c)));
      for (const r of results) expect(r).toEqual({ error: expect.any(RetriableError) });
      expect(requests).toBe(1);
      mode = 'ok';
      const out = (await write(c)) as { ok: Buffer };
      expect(out.ok.readInt32BE(1)).toBe(7);
    }, 10_000);
  }

  it('something not HTTP answering on the port is an outage, not "schema id not found" for 30 s', async () => {
    const c = converter();
    mode = 'not-http';
    expect(await read(c, 5)).toEqual({ error: expect.any(RetriableError) });
    mode = 'ok';
    // Within missing.id.cache.ttl.sec: had the outage been remembered as an answer, this would fail for 30 s.
    expect(await read(c, 5)).toEqual({ ok: expect.objectContaining({ value: 1n }) });
  });

  it('a 200 that is not a schema (proxy page, empty object) is an outage, not an unreadable schema for 30 s', async () => {
    const c = converter();
    for (const outage of ['html-200', 'empty-200'] as const) {
      mode = outage;
      expect(await read(c, 5)).toEqual({ error: expect.any(RetriableError) });
    }
    mode = 'ok';
    expect(await read(c, 5)).toEqual({ ok: expect.objectContaining({ value: 1n }) });
  });

  it('a real 404 is remembered for its TTL only; an outage in the middle of it changes nothing, after it the id reads', async () => {
    const c = converter();
    expect(await read(c, 500)).toEqual({ error: expect.any(DataError) });
    expect(requests).toBe(1);
    const now = Date.now();
    // Mid-TTL, registry down: the remembered answer stands, without a request.
    mode = 'hang';
    vi.spyOn(Date, 'now').mockReturnValue(now + 15_000);
    expect(await read(c, 500)).toEqual({ error: expect.any(DataError) });
    expect(requests).toBe(1);
    // TTL over, registry still down: retriable (the old answer is not reused, the outage not remembered).
    vi.spyOn(Date, 'now').mockReturnValue(now + 31_000);
    expect(await read(c, 500)).toEqual({ error: expect.any(RetriableError) });
    mode = '503';
    expect(await read(c, 500)).toEqual({ error: expect.any(RetriableError) });
    // Registered meanwhile (the stand-in has ids below 100 only; 500 stays unknown, 50 reads).
    mode = 'ok';
    expect(await read(c, 500)).toEqual({ error: expect.any(DataError) });
    expect(await read(c, 50)).toEqual({ ok: expect.objectContaining({ value: 1n }) });
  }, 10_000);

  it('keeps at most missing.cache.size unknown ids, and nothing for ids that failed through an outage', async () => {
    const c = converter({ 'missing.cache.size': '100' });
    const internals = c as unknown as {
      missing: { size: number };
      readers: Map<number, unknown>;
      resolvedReaders: Map<number, unknown>;
    };
    for (let id = 1000; id < 1400; id++) expect(await read(c, id)).toEqual({ error: expect.any(DataError) });
    expect(internals.missing.size).toBe(100);
    mode = '503';
    for (let id = 2000; id < 2010; id++) expect(await read(c, id)).toEqual({ error: expect.any(RetriableError) });
    mode = 'not-http';
    for (let id = 3000; id < 3050; id++) expect(await read(c, id)).toEqual({ error: expect.any(RetriableError) });
    expect(internals.missing.size).toBe(100);
    expect(internals.readers.size).toBe(0);
    expect(internals.resolvedReaders.size).toBe(0);
  }, 20_000);
});

describe('AvroConverter writing while the registry is out', () => {
  const settings: Record<string, string>[] = [
    {},
    { 'auto.register.schemas': 'false' },
    { 'auto.register.schemas': 'false', 'use.latest.version': 'true' },
  ];
  for (const props of settings) {
    it(`never frames a record with a schema id the registry did not give (${JSON.stringify(props)})`, async () => {
      const c = converter(props);
      for (const outage of ['html-200', 'empty-200', 'not-http'] as const) {
        mode = outage;
        const r = await write(c);
        // Before the fix: { ok: <00 00 00 00 00 02> }, schema id 0, for this record and every later one.
        expect(r).toEqual({ error: expect.any(RetriableError) });
      }
      mode = 'ok';
      const out = (await write(c)) as { ok: Buffer };
      expect(out.ok.readInt32BE(1)).toBe(7);
    });
  }
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, DataError, RetriableError, SchemaError, Schemas } from '../../../../../runtime/api/index.js';
import { AvroConverter, converterPlugins } from '../../../../../runtime/converters/index.js';

// Registry-backed behaviour is tested against the real registry in test/integration/converters.
describe('AvroConverter (no registry needed)', () => {
  const configured = () => {
    const c = new AvroConverter();
    c.configure({ 'schema.registry.url': 'http://127.0.0.1:1/apis/ccompat/v7' }, false);
    return c;
  };

  it('requires schema.registry.url and a known subject strategy', () => {
    expect(() => new AvroConverter().configure({}, false)).toThrow(ConfigError);
    expect(() => new AvroConverter().configure({}, false)).toThrow(
      'Missing required configuration "schema.registry.url"',
    );
    expect(() =>
      new AvroConverter().configure({ 'schema.registry.url': 'http://x', 'value.subject.name.strategy': 'Foo' }, false),
    ).toThrow(/value.subject.name.strategy/);
  });

  it('keeps tombstones: null in, null out, without asking the registry', async () => {
    expect(await configured().fromConnectData('t', [], null, null)).toBeNull();
    expect(await configured().toConnectData('t', [], null)).toEqual({ schema: null, value: null });
  });

  it('refuses schemaless values and bytes that are not in the Confluent wire format', async () => {
    await expect(configured().fromConnectData('t', [], null, { a: 1 })).rejects.toThrow(/needs a schema.*topic "t"/);
    await expect(configured().toConnectData('t', [], Buffer.from('{"a":1}'))).rejects.toThrow(
      'Unknown magic byte 0x7b in value of topic "t": expected 0x00 (Confluent wire format: magic byte, 4-byte schema id, Avro binary) in at least 5 bytes, got 7',
    );
    await expect(configured().toConnectData('t', [], Buffer.from([0, 0, 0]))).rejects.toBeInstanceOf(DataError);
  });

  it('hides basic.auth.user.info in its config spec', () => {
    const p = converterPlugins.find((x) => x.className === 'io.confluent.connect.avro.AvroConverter')!;
    expect(p.config.key('basic.auth.user.info')?.type).toBe('PASSWORD');
  });
});

/**
 * A stand-in registry on a free port of 127.0.0.1 for the enclosing describe (the real one never answers 5xx on
 * demand): started before its tests, closed after them; `url()` is its base URL.
 */
function scriptedRegistry(handle: http.RequestListener): { url: () => string } {
  let server: http.Server;
  let url = '';
  beforeAll(async () => {
    server = http.createServer(handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/reg`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: () => url };
}

/**
 * Records naming a schema id the registry cannot give, against a scripted registry (the real one never answers 5xx on
 * demand; the unknown id is also counted against it in test/integration/converters).
 */
describe('AvroConverter with records of unknown schema ids (poison)', () => {
  const requests = new Map<string, number>();
  /** Schema ids the scripted registry answers with 503 until they are set to the schema. */
  const failing = new Map<number, string | null>();

  const registry = scriptedRegistry((req, res) => {
    requests.set(req.url!, (requests.get(req.url!) ?? 0) + 1);
    const id = Number(/\/schemas\/ids\/(\d+)$/.exec(req.url!)?.[1]);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const schema = failing.get(id);
    if (schema === null) return reply(503, { error_code: 50301, message: 'Registry unavailable' });
    if (schema !== undefined) return reply(200, { schema });
    return reply(404, { error_code: 40403, message: 'Schema not found' });
  });

  afterEach(() => {
    vi.restoreAllMocks();
    requests.clear();
    failing.clear();
  });

  const reader = (props: Record<string, string> = {}, url = registry.url()) => {
    const c = new AvroConverter();
    c.configure({ 'schema.registry.url': url, ...props }, false);
    return c;
  };
  /** The wire format: magic byte, schema id, then an Avro body (by default a long 1, or a boolean true). */
  const framed = (id: number, body = [2]) => {
    const b = Buffer.from([0, 0, 0, 0, 0, ...body]);
    b.writeInt32BE(id, 1);
    return b;
  };

  it('asks the registry once for an unknown id, not once per record, and again after missing.id.cache.ttl.sec', async () => {
    const c = reader();
    const poison = framed(999_999);
    const errors = await Promise.all(
      Array.from({ length: 500 }, () => c.toConnectData('t', [], poison).catch((e: unknown) => e)),
    );
    for (let i = 0; i < 500; i++) errors.push(await c.toConnectData('t', [], poison).catch((e: unknown) => e));
    expect(requests.get('/reg/schemas/ids/999999')).toBe(1);
    expect(errors.every((e) => e instanceof DataError)).toBe(true);
    expect((errors[999] as Error).message).toBe(
      `Schema id 999999 was not found in the registry at ${registry.url()}: the record was written with another registry ` +
        '(point schema.registry.url at the one its producer uses) or its schema was deleted',
    );

    // Registered meanwhile: read once the 30 s are over.
    failing.set(999_999, '"string"');
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 29_000);
    await expect(c.toConnectData('t', [], poison)).rejects.toThrow(DataError);
    vi.spyOn(Date, 'now').mockReturnValue(now + 31_000);
    expect((await c.toConnectData('t', [], framed(999_999, [2, 0x61]))).value).toBe('a');
    expect(requests.get('/reg/schemas/ids/999999')).toBe(2);
  });

  it('asks for every record with missing.id.cache.ttl.sec=0, and remembers at most missing.cache.size ids', async () => {
    const off = reader({ 'missing.id.cache.ttl.sec': '0' });
    for (let i = 0; i < 3; i++) await expect(off.toConnectData('t', [], framed(7))).rejects.toThrow(DataError);
    expect(requests.get('/reg/schemas/ids/7')).toBe(3);

    const small = reader({ 'missing.cache.size': '2' });
    for (const id of [1, 2, 3, 1]) await expect(small.toConnectData('t', [], framed(id))).rejects.toThrow(DataError);
    // 3 pushed 1 out (the least recently seen), so 1 was asked for again; 3 is still known.
    expect(requests.get('/reg/schemas/ids/1')).toBe(2);
    await expect(small.toConnectData('t', [], framed(3))).rejects.toThrow(DataError);
    expect(requests.get('/reg/schemas/ids/3')).toBe(1);
  });

  it('does not remember a failing (5xx) or unreachable registry: those records stay retriable and read once it is back', async () => {
    const c = reader();
    failing.set(42, null);
    for (let i = 1; i <= 2; i++) {
      await expect(c.toConnectData('t', [], framed(42))).rejects.toThrow(RetriableError);
      // The client's own retries (2) each time, then the record's next attempt asks again.
      expect(requests.get('/reg/schemas/ids/42')).toBe(3 * i);
    }
    failing.set(42, '"long"');
    expect((await c.toConnectData('t', [], framed(42))).value).toBe(1n);

    // Connection refused: a port nothing listens on yet, then a registry there.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const down = reader({}, `http://127.0.0.1:${port}/reg`);
    await expect(down.toConnectData('t', [], framed(43))).rejects.toThrow(RetriableError);
    const late = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ schema: '"boolean"' }));
    });
    await new Promise<void>((resolve) => late.listen(port, '127.0.0.1', resolve));
    try {
      expect((await down.toConnectData('t', [], framed(43, [1]))).value).toBe(true);
    } finally {
      await new Promise<void>((resolve) => late.close(() => resolve()));
    }
  });
});

/** The write side: a schema the registry refuses for a subject, against a scripted registry. */
describe('AvroConverter writing a schema the registry refuses (poison for a source)', () => {
  let requests = 0;
  /** What the scripted registry answers every write-side call with: 404 (not registered), 409, or 503. */
  let answer: 404 | 409 | 503 = 404;

  const registry = scriptedRegistry((req, res) => {
    requests++;
    req.resume();
    const bodies = {
      404: { error_code: 40403, message: 'Schema not found' },
      409: { error_code: 409, message: 'Schema being registered is incompatible with an earlier schema' },
      503: { error_code: 50301, message: 'Registry unavailable' },
    };
    res.writeHead(answer, { 'content-type': 'application/json' });
    res.end(JSON.stringify(bodies[answer]));
  });

  afterEach(() => {
    vi.restoreAllMocks();
    requests = 0;
    answer = 404;
  });

  const writer = (props: Record<string, string> = {}) => {
    const c = new AvroConverter();
    c.configure({ 'schema.registry.url': registry.url(), ...props }, false);
    return c;
  };
  const write = (c: AvroConverter) =>
    c.fromConnectData('t', [], Schemas.INT64, 1n).then(
      () => null,
      (e: unknown) => e,
    );

  it('asks once for a schema not registered (auto.register.schemas=false), not once per record, and again after missing.schema.cache.ttl.sec', async () => {
    const c = writer({ 'auto.register.schemas': 'false', 'missing.schema.cache.ttl.sec': '30' });
    const errors = await Promise.all(Array.from({ length: 200 }, () => write(c)));
    for (let i = 0; i < 200; i++) errors.push(await write(c));
    expect(errors.every((e) => e instanceof DataError)).toBe(true);
    expect((errors[399] as Error).message).toMatch(/^The schema is not registered under subject "t-value"/);
    expect(requests).toBe(1);
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 29_000);
    expect(await write(c)).toBeInstanceOf(DataError);
    expect(requests).toBe(1);
    vi.spyOn(Date, 'now').mockReturnValue(now + 31_000);
    expect(await write(c)).toBeInstanceOf(DataError);
    expect(requests).toBe(2);
  });

  it('remembers a refusal for one second by default: a schema registered meanwhile is found at once after it', async () => {
    const c = writer({ 'auto.register.schemas': 'false' });
    expect(await write(c)).toBeInstanceOf(DataError);
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 900);
    expect(await write(c)).toBeInstanceOf(DataError);
    expect(requests).toBe(1);
    vi.spyOn(Date, 'now').mockReturnValue(now + 1_100);
    expect(await write(c)).toBeInstanceOf(DataError);
    expect(requests).toBe(2);
  });

  it('remembers a refused registration (409) as well, and nothing with missing.schema.cache.ttl.sec=0', async () => {
    answer = 409;
    const c = writer();
    for (let i = 0; i < 5; i++) expect(await write(c)).toBeInstanceOf(SchemaError);
    expect(requests).toBe(1);
    requests = 0;
    const off = writer({ 'missing.schema.cache.ttl.sec': '0' });
    for (let i = 0; i < 3; i++) expect(await write(off)).toBeInstanceOf(SchemaError);
    expect(requests).toBe(3);
  });

  it('does not remember a failing registry (5xx): every record asks again', async () => {
    answer = 503;
    const c = writer();
    expect(await write(c)).toBeInstanceOf(RetriableError);
    const perRecord = requests;
    expect(perRecord).toBeGreaterThan(0);
    expect(await write(c)).toBeInstanceOf(RetriableError);
    expect(requests).toBe(2 * perRecord);
  });
});

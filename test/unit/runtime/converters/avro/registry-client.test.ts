import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError, RetriableError, SchemaError } from '../../../../../runtime/api/index.js';
import { RegistryClient } from '../../../../../runtime/converters/avro/registry-client.js';
import { subjectNameStrategy } from '../../../../../runtime/converters/avro/subject-name-strategy.js';

/**
 * Error mapping and credentials, against a scripted HTTP server (the real registry runs without auth and
 * never answers 5xx on demand; the happy paths are covered against it in test/integration/converters).
 */
describe('RegistryClient', () => {
  let server: http.Server;
  let base: string;
  const seenAuth: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seenAuth.push(req.headers.authorization ?? '');
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Basic ${Buffer.from('alice:s3cret').toString('base64')}`) {
        return reply(401, { error_code: 401, message: 'Unauthorized' });
      }
      if (req.url === '/reg/subjects/ok/versions') return reply(200, { id: 5 });
      if (req.url === '/reg/subjects/clash/versions')
        return reply(409, {
          error_code: 409,
          message: 'Schema being registered is incompatible with an earlier schema',
        });
      if (req.url === '/reg/subjects/broken/versions') return reply(500, { error_code: 500, message: 'boom' });
      return reply(404, { error_code: 40403, message: 'Schema not found' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/reg`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const client = (userInfo?: string, url = base) =>
    new RegistryClient({ url, retries: 0, ...(userInfo ? { userInfo } : {}) });

  it('sends basic.auth.user.info as HTTP basic auth', async () => {
    expect(await client('alice:s3cret').register('ok', '"string"')).toBe(5);
    expect(seenAuth.at(-1)).toBe(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
  });

  it('uses credentials from the URL but never shows them', async () => {
    const c = client(undefined, base.replace('http://', 'http://alice:s3cret@'));
    expect(c.safeUrl).toBe(base);
    expect(await c.register('ok', '"string"')).toBe(5);
  });

  it('maps refused credentials, incompatibility, server errors and unknown ids to typed errors without secrets', async () => {
    const denied = await client('alice:wrong')
      .register('ok', '"string"')
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ConfigError);
    expect((denied as Error).message).toMatch(/refused the credentials \(HTTP 401\)/);
    expect((denied as Error).message).not.toContain('wrong');

    const clash = await client('alice:s3cret')
      .register('clash', '"string"')
      .catch((e: unknown) => e);
    expect(clash).toBeInstanceOf(SchemaError);
    expect((clash as Error).message).toBe(
      'Schema being registered is incompatible with an earlier schema (subject "clash"): Schema being registered is incompatible with an earlier schema',
    );

    const broken = await client('alice:s3cret')
      .register('broken', '"string"')
      .catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(RetriableError);
    expect((broken as Error).message).toContain('HTTP 500: boom');

    await expect(client('alice:s3cret').schemaById(77)).rejects.toThrow(DataError);
    await expect(client('alice:s3cret').schemaById(77)).rejects.toThrow(
      `Schema id 77 was not found in the registry at ${base}`,
    );
    expect(await client('alice:s3cret').lookup('nothing', '"string"')).toBeNull();
  });

  it('reports an unreachable registry as retriable, naming the URL', async () => {
    const err = await client(undefined, 'http://127.0.0.1:1/x')
      .schemaById(1)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriableError);
    expect((err as Error).message).toMatch(
      /^Schema registry at http:\/\/127.0.0.1:1\/x is unreachable: could not read schema id 1: .*ECONNREFUSED/,
    );
  });
});

describe('subject name strategies', () => {
  it.each([
    ['io.confluent.kafka.serializers.subject.TopicNameStrategy', false, 'orders-value'],
    ['TopicNameStrategy', true, 'orders-key'],
    ['RecordNameStrategy', false, 'erp.Order'],
    ['io.confluent.kafka.serializers.subject.TopicRecordNameStrategy', false, 'orders-erp.Order'],
  ])('%s (key=%s) → %s', (name, isKey, subject) => {
    expect(subjectNameStrategy('value.subject.name.strategy', name)('orders', isKey, 'erp.Order')).toBe(subject);
  });

  it('rejects unknown strategies and record strategies without a record', () => {
    expect(() => subjectNameStrategy('value.subject.name.strategy', 'Nope')).toThrow(/value.subject.name.strategy/);
    expect(() => subjectNameStrategy('k', 'RecordNameStrategy')('t', false, undefined)).toThrow(/needs a struct/);
  });
});

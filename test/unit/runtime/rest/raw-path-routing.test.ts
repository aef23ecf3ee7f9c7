import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRequestTarget } from '../../../../runtime/rest/request-target.js';
import { rawHttp, rawRequest } from '../../../support/raw-http.js';
import { type Harness, startHarness } from '../worker/harness.js';

let h: Harness;
let input: string;
beforeAll(async () => {
  h = await startHarness();
  input = path.join(h.dir, 'in.txt');
  await writeFile(input, 'one\n');
});
afterAll(async () => {
  await h.worker.stop();
});

/** The path exactly as written: no client in between resolves dot segments or merges slashes. */
const get = (target: string, headers: Record<string, string> = {}) =>
  rawRequest(h.url, rawHttp('GET', target, headers));
const NOT_FOUND = { error_code: 404, message: 'HTTP 404 Not Found' };

describe('routing on raw path segments, decoded once (as Connect/Jersey)', () => {
  it.each([
    '/connectors/%2e%2e/admin/loggers',
    '/./connectors',
    '//example.com/connectors',
    '/connectors//',
    '/%63onnectors',
  ])('%s is a 404, not another resource', async (target) => {
    const r = await get(target);
    expect(r.status).toBe(404);
    expect(r.json).toEqual(NOT_FOUND);
  });

  it.each(['/connectors;x=1', '/connectors/;x=1', '/connectors/', '/connectors/;'])(
    '%s lists connectors (matrix parameters and one trailing slash are ignored)',
    async (target) => {
      const r = await get(target);
      expect(r.status).toBe(200);
      expect(Array.isArray(r.json)).toBe(true);
    },
  );

  it('a connector named ".." can be created, read, checked and deleted', async () => {
    const created = await h.req('POST', '/connectors', {
      name: '..',
      config: { 'connector.class': 'FileStreamSource', file: input, topic: 'dots' },
    });
    expect(created.status).toBe(201);
    expect((await get('/connectors/..')).json).toMatchObject({ name: '..' });
    expect((await get('/connectors/%2e%2e')).json).toMatchObject({ name: '..' });
    expect((await get('/connectors/%2E%2E/status')).json).toMatchObject({ name: '..' });
    expect((await get('/connectors/../config')).json).toMatchObject({ 'connector.class': 'FileStreamSource' });
    const del = await rawRequest(h.url, rawHttp('DELETE', '/connectors/%2e%2e'));
    expect(del.status).toBe(204);
    expect((await get('/connectors/..')).json).toEqual({ error_code: 404, message: 'Connector .. not found' });
  });

  it.each([
    ['/connectors/a%2Fb', 'Connector a/b not found'],
    ['/connectors/a%252Fb', 'Connector a%2Fb not found'],
    ['/connectors/a;b', 'Connector a not found'],
    ['/connectors/a%3Bb', 'Connector a;b not found'],
    ['/connectors/a%20b', 'Connector a b not found'],
    ['/connectors/a+b', 'Connector a+b not found'],
    ['/connectors/%C3%A9', 'Connector é not found'],
    ['/connectors/%FF', 'Connector \uFFFD not found'],
    ['/connectors/.', 'Connector . not found'],
    ['/connectors/x/tasks/%30/status', 'No status found for task x-0'],
    ['/connectors/x/tasks/+1/status', 'No status found for task x-1'],
    ['/connectors/x/tasks/99999999999/status', 'HTTP 404 Not Found'],
  ])('%s answers as Connect 3.9.1: %s', async (target, message) => {
    expect((await get(target)).json).toEqual({ error_code: 404, message });
  });

  it.each(['/%00', '/connectors/x%00y', '/connectors/%zz', '/connectors/%E0%A4%A'])(
    '%s is a 400 in the JSON error shape (Jetty: an HTML "Bad Message 400")',
    async (target) => {
      const r = await get(target);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error_code: 400, message: expect.stringMatching(/^HTTP 400 Bad Request/) });
    },
  );

  it('parses targets without resolving anything', () => {
    expect(parseRequestTarget('/a/%2e%2e/b;m=1/?q=1#frag')).toMatchObject({
      raw: ['a', '%2e%2e', 'b'],
      decoded: ['a', '..', 'b'],
    });
    expect(parseRequestTarget('http://host:1/connectors?expand=info').decoded).toEqual(['connectors']);
    expect(parseRequestTarget('/').decoded).toEqual([]);
    expect(parseRequestTarget('//').decoded).toEqual(['']);
  });
});

describe('HEAD, OPTIONS and content negotiation (as Connect)', () => {
  it('HEAD / answers 200 with the headers of GET and no body', async () => {
    const r = await rawRequest(h.url, rawHttp('HEAD', '/'));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body).toBe('');
  });
  it('OPTIONS lists the methods of the resource; an unknown path stays 404', async () => {
    const r = await rawRequest(h.url, rawHttp('OPTIONS', '/connectors'));
    expect(r.status).toBe(200);
    expect(r.headers.allow).toBe('HEAD,POST,GET,OPTIONS');
    expect(r.body).toBe('HEAD, POST, GET, OPTIONS');
    expect((await rawRequest(h.url, rawHttp('OPTIONS', '/nope'))).status).toBe(404);
  });
  it('Accept: text/plain on a JSON resource is 406; */* and application/json are fine', async () => {
    expect((await get('/connectors', { accept: 'text/plain' })).json).toEqual({
      error_code: 406,
      message: 'HTTP 406 Not Acceptable',
    });
    expect((await get('/connectors', { accept: 'application/xml, */*;q=0.1' })).status).toBe(200);
    expect((await get('/connectors', { accept: 'application/json' })).status).toBe(200);
    expect((await get('/nope', { accept: 'text/plain' })).status).toBe(404);
  });
  it('methods no resource has are 405 JSON, whether Node knows them or not', async () => {
    for (const m of ['PROPFIND', 'TRACE', 'FOO', 'PATCH']) {
      const r = await rawRequest(h.url, rawHttp(m, '/'));
      expect(r.status, m).toBe(405);
      expect(r.json, m).toEqual({ error_code: 405, message: 'HTTP 405 Method Not Allowed' });
    }
  });
});

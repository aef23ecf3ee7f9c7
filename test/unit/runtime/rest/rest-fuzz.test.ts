import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { YamlLoadError } from '../../../../runtime/api/index.js';
import { readConfigFile } from '../../../../runtime/worker/config.js';
import { loadConnectorDefinitions } from '../../../../cli/connect/connector-files.js';
import { loadDocument } from '../../../../integrations/documents.js';
import { readContexts } from '../../../../cli/contexts/store.js';
import { rawHttp, rawRequest } from '../../../support/raw-http.js';
import { type Harness, startHarness } from '../worker/harness.js';

/**
 * Hostile requests and files (issue 19): malformed paths, methods, headers and bodies, with and without
 * credentials, over a raw socket. The worker must answer every one, keep serving, and answer every error as
 * Connect's `{error_code, message}`. CI runs a sample; ERPSTREAM_FUZZ_RUNS scales it (requests and files).
 */
const RUNS = Number(process.env.ERPSTREAM_FUZZ_RUNS ?? 300);
const BASIC = `Basic ${Buffer.from('ops:pw').toString('base64')}`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    'rest.auth.type': 'basic',
    'rest.auth.basic.username': 'ops',
    'rest.auth.basic.password': 'pw',
  });
});
afterAll(async () => {
  await h.worker.stop();
});

const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);
const segment = fc.oneof(
  pick('connectors', 'connector-plugins', 'admin', 'loggers', 'tasks', 'status', 'config', 'offsets', 'restart'),
  pick('', '.', '..', '%2e%2e', '%2E', '%00', '%zz', '%', '%2', '%2F', '%252F', '%C3%A9', '%FF', '%E0%A4%A'),
  pick(';x=1', 'a;b', 'a%3Bb', '0', '+1', '-1', '99999999999', '#', '?', '??', '\\', '*', '~', 'é'),
  fc.string({ maxLength: 12 }).map((s) => s.replace(/[\s/]/g, '')),
  fc.string({ unit: 'binary', maxLength: 6 }).map((s) => encodeURIComponent(s)),
);
const target = fc.oneof(
  { weight: 8, arbitrary: fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join('/')}`) },
  { weight: 1, arbitrary: pick('*', '//', '///', 'http://x/connectors', 'connectors', '/?%zz', '/#frag', '/%') },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.array(segment, { maxLength: 4 }), fc.string({ maxLength: 20 }))
      .map(([s, q]) => `/${s.join('/')}?${encodeURIComponent(q)}&expand=${q}`),
  },
);
const method = fc.oneof(
  { weight: 6, arbitrary: pick('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS') },
  { weight: 1, arbitrary: pick('TRACE', 'PROPFIND', 'CONNECT', 'FOO', 'get', 'G ET', '', 'GET\u0000') },
);
const FORBIDDEN = new Set(['content-length', 'transfer-encoding', 'connection', 'host', 'expect', 'upgrade']);
const header = fc.tuple(
  fc.oneof(
    pick('accept', 'content-type', 'authorization', 'x-forwarded-for', 'cookie', 'accept-encoding'),
    fc.string({ minLength: 1, maxLength: 10 }),
  ),
  fc.oneof(
    pick('application/json', 'text/plain', '*/*', 'application/*;q=0', '', ';;;', 'Basic', 'Bearer x', BASIC),
    fc.string({ maxLength: 30 }),
  ),
);
const body = fc.oneof(
  pick('', '{', '[]', 'null', '"x"', '{"name":null}', '{"name":"..","config":{"connector.class":"FileStreamSource"}}'),
  fc.json({ maxDepth: 4 }),
  fc.string({ maxLength: 200 }),
  fc.constant(`${'['.repeat(5000)}${']'.repeat(5000)}`),
  fc
    .dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string(), fc.constant(null), fc.integer()), {
      maxKeys: 6,
    })
    .map((config) => JSON.stringify({ name: 'fuzz', config: { 'connector.class': 'FileStreamSource', ...config } })),
);

const request = fc.record({
  method,
  target,
  headers: fc.array(header, { maxLength: 4 }),
  body,
  authenticated: fc.boolean(),
});

function isErrorShape(json: unknown, status: number): boolean {
  if (json === null || typeof json !== 'object') return false;
  const keys = Object.keys(json).sort();
  const j = json as { error_code?: unknown; message?: unknown };
  return keys.join() === 'error_code,message' && j.error_code === status && typeof j.message === 'string';
}

describe('REST fuzz: no request stops the worker, every error is {error_code, message}', () => {
  it(`${RUNS} malformed requests`, async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of r.headers) {
          if (!FORBIDDEN.has(k.toLowerCase())) headers[k] = v;
        }
        if (r.authenticated) headers.authorization = BASIC;
        if (r.body !== '' && !('content-type' in headers)) headers['content-type'] = 'application/json';
        const answer = await rawRequest(h.url, rawHttp(r.method, r.target, headers, r.body));
        expect(answer.status).toBeGreaterThanOrEqual(200);
        expect(answer.status).toBeLessThan(600);
        // HEAD answers carry headers only, by definition.
        if (answer.status >= 400 && r.method !== 'HEAD') {
          expect(isErrorShape(answer.json, answer.status), `${answer.status} ${answer.body}`).toBe(true);
        }
        if (!r.authenticated && !r.headers.some(([k, v]) => k === 'authorization' && v === BASIC)) {
          // Without credentials nothing but a refusal (or a parser-level refusal) comes back.
          expect([400, 401, 405, 431]).toContain(answer.status);
        }
      }),
      { numRuns: RUNS },
    );
    const alive = await rawRequest(h.url, rawHttp('GET', '/', { authorization: BASIC }));
    expect(alive.status).toBe(200);
  });
});

describe('file fuzz: every loader answers a malformed file with its typed error, never anything else', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-fuzz-files-'));
  });
  const content = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    fc.json({ maxDepth: 3 }),
    fc
      .array(
        pick(
          'a:',
          ' b',
          '- ',
          '&x ',
          '*x',
          '*y',
          '<<: ',
          '? ',
          '{',
          '}',
          '[',
          ']',
          '"',
          "'",
          '\n',
          '\t',
          '#',
          '---',
          '%YAML 1.2',
          '!!str ',
        ),
        {
          maxLength: 40,
        },
      )
      .map((parts) => parts.join('')),
  );
  const LOADERS = [
    (f: string) => loadConnectorDefinitions([f], process.stdin),
    (f: string) => loadDocument(f, path.dirname(f)),
    (f: string) => readContexts({ ERPSTREAM_CONFIG: f }),
    (f: string) => readConfigFile(f),
  ];
  it(`${RUNS} malformed files through connector, integration, contexts and worker loaders`, async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(content, fc.integer({ min: 0, max: LOADERS.length - 1 }), async (text, which) => {
        const file = path.join(dir, `f${n++}.yaml`);
        await writeFile(file, text);
        try {
          await LOADERS[which]!(file);
        } catch (e) {
          const err = e as Error & { code?: unknown; exitCode?: unknown; problems?: unknown };
          const typed =
            e instanceof YamlLoadError ||
            err.name === 'CliError' ||
            err.name === 'ConfigError' ||
            err.name === 'IntegrationFileError' ||
            typeof err.code === 'string';
          expect(typed, `${err.name}: ${err.message}`).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

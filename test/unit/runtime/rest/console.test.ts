import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../worker/harness.js';

const AUTH = {
  'rest.auth.type': 'basic',
  'rest.auth.basic.username': 'ops',
  'rest.auth.basic.password': 'pa55',
};
const BASIC = { authorization: `Basic ${Buffer.from('ops:pa55').toString('base64')}` };

describe('the console page on the REST listener', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ...AUTH, 'console.history.interval.ms': '1000' });
  });
  afterAll(async () => {
    await h.worker.stop();
  });

  it('serves /console/ (and /console) as HTML with a strict content security policy', async () => {
    for (const p of ['/console/', '/console']) {
      const r = await h.req('GET', p, undefined, BASIC);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(String(r.body)).toContain('<script type="module" src="/console/app.js">');
      expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('every module the page imports and every file it links is served, with its type', async () => {
    const files = readdirSync('console');
    const wanted = new Set<string>(['/console/style.css', '/console/app.js']);
    for (const f of files.filter((x) => x.endsWith('.js'))) {
      for (const m of readFileSync(`console/${f}`, 'utf8').matchAll(/from '(\/console\/[^']+)'/g)) wanted.add(m[1]!);
    }
    expect(wanted.size).toBeGreaterThan(5);
    for (const p of wanted) {
      const r = await h.req('GET', p, undefined, { ...BASIC, accept: '*/*' });
      expect(r.status, p).toBe(200);
      expect(r.headers.get('content-type'), p).toMatch(p.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
    }
  });

  it('ships with the package: console/ is in package.json "files" (no build step makes it)', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('console');
  });

  it('needs the REST credentials: the page, its assets and its data endpoints answer 401 without them', async () => {
    for (const p of ['/console/', '/console/app.js', '/erpstream/v1/metrics/history']) {
      const r = await h.req('GET', p);
      expect(r.status, p).toBe(401);
      expect(r.body).toEqual({ error_code: 401, message: 'Unauthorized' });
      expect(r.headers.get('www-authenticate')).toBe('Basic realm="erpstream"');
      const wrong = await h.req('GET', p, undefined, {
        authorization: `Basic ${Buffer.from('ops:wrong').toString('base64')}`,
      });
      expect(wrong.status, p).toBe(401);
    }
  });

  it('never serves a file outside the shipped assets (traversal, encoded slashes, unknown names)', async () => {
    for (const p of [
      '/console/..%2fpackage.json',
      '/console/%2e%2e/package.json',
      '/console/../package.json',
      '/console/app.ts',
      '/console/missing.js',
      '/console/.eslintrc.js',
      '/console/app.js/x',
    ]) {
      const r = await h.req('GET', p, undefined, BASIC);
      expect(r.status, p).toBe(404);
      expect(r.body).toMatchObject({ error_code: 404 });
    }
  });

  it('GET /erpstream/v1/metrics/history answers the series, and refuses bad parameters', async () => {
    await new Promise((r) => setTimeout(r, 1200));
    const r = await h.req('GET', '/erpstream/v1/metrics/history?minutes=5', undefined, BASIC);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ stepMs: 1000, customer: null, customers: [], minutes: 5 });
    expect(Object.keys(r.body.series).sort()).toEqual([
      'captureLagMs',
      'deliveryLagMs',
      'parked',
      'recordsInPerSec',
      'recordsOutPerSec',
    ]);
    expect(r.body.series.recordsInPerSec.length).toBeGreaterThanOrEqual(1);
    for (const q of ['minutes=0', 'minutes=61', 'minutes=abc', 'minutes=1e3']) {
      const bad = await h.req('GET', `/erpstream/v1/metrics/history?${q}`, undefined, BASIC);
      expect(bad.status, q).toBe(400);
      expect(bad.body).toEqual({ error_code: 400, message: expect.stringContaining('minutes') });
    }
    const unknown = await h.req('GET', '/erpstream/v1/metrics/history?customer=nobody', undefined, BASIC);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error_code: 404, message: 'No connector belongs to customer nobody' });
  });
});

describe('console.enabled=false', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ 'console.enabled': 'false' });
  });
  afterAll(async () => {
    await h.worker.stop();
  });

  it('answers 404 for the page and its assets; the REST API (its data endpoints too) is unchanged', async () => {
    for (const p of ['/console/', '/console', '/console/app.js', '/console/style.css']) {
      const r = await h.req('GET', p);
      expect(r.status, p).toBe(404);
      expect(r.body).toEqual({ error_code: 404, message: 'HTTP 404 Not Found' });
    }
    expect((await h.req('GET', '/connectors')).status).toBe(200);
    expect((await h.req('GET', '/erpstream/v1/metrics/history')).status).toBe(200);
  });
});

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimulator } from '../../../cli/demo/erp/simulator.js';
import { startTestWorker } from '../test-worker.js';
import { launchChromium, screenshot } from './browser.js';
import { type ConsolePipeline, PASSWORD, USER, eventually, startConsolePipeline } from './pipeline.js';

/**
 * The operations console in a real browser (Debian's Chromium through playwright-core) against a worker running
 * the demo's pipeline on the real stack: Kafka, PostgreSQL as the ERP, the ErpSource and one LookupSink per
 * customer and entity. The page is driven as an operator would: look, click, search.
 */

let p: ConsolePipeline;
let browser: Browser;
let context: BrowserContext;
let page: Page;

/** Test ids well apart from the simulator's (S0000001…, small document numbers). */
const DOC = 9_100_001;
const SHIPMENT = 'CT0000001';
const POISON = 'CTP000001';

beforeAll(async () => {
  browser = await launchChromium();
  p = await startConsolePipeline();
  context = await browser.newContext({
    httpCredentials: { username: USER, password: PASSWORD },
    viewport: { width: 1280, height: 860 },
  });
  page = await context.newPage();
  // Some live traffic for both customers: the demo's operations team, briefly.
  await runSimulator(p.db.pool, { durationMs: 6000, rate: 15, seed: 7, longTransactionMs: 1000 });
}, 180_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await p?.stop();
});

async function sql(text: string, params: unknown[] = []): Promise<void> {
  await p.db.pool.query(text, params);
}

function delivered(customer: string, entity: string, id: string): boolean {
  return p.collector.delivered().some((d) => d.customer === customer && d.entity === entity && d.ids.has(id));
}

describe('console: overview', () => {
  it('shows every connector and task of the pipeline with its state', async () => {
    await page.goto(`${p.url}/console/`);
    for (const c of p.connectors) {
      const row = page.locator(`tr.connector[data-connector="${c.name}"]`);
      await row.waitFor({ timeout: 15_000 });
      expect(await row.locator('.state').textContent()).toBe('RUNNING');
      await page.locator(`tr.task[data-connector="${c.name}"]`).first().waitFor();
    }
  });

  it('pause and resume buttons go through the Connect REST API', async () => {
    const name = p.sink('globex', 'phone');
    const row = page.locator(`tr.connector[data-connector="${name}"]`);
    await row.getByRole('button', { name: 'Pause' }).click();
    await eventually(
      'PAUSED over REST',
      async () => (await p.client.getConnectorStatus(name)).connector.state === 'PAUSED',
    );
    await row.locator('.state', { hasText: 'PAUSED' }).waitFor();
    await row.getByRole('button', { name: 'Resume' }).click();
    await eventually(
      'RUNNING over REST',
      async () => (await p.client.getConnectorStatus(name)).connector.state === 'RUNNING',
    );
    await row.locator('.state', { hasText: 'RUNNING' }).waitFor();
    // A task's Restart: POST /connectors/{c}/tasks/0/restart, accepted, and the task runs again.
    await page.locator(`tr.task[data-connector="${name}"]`).getByRole('button', { name: 'Restart' }).click();
    await page.locator('#status', { hasText: `restart ${name}-0: accepted` }).waitFor();
    await eventually(
      'the restarted task RUNNING',
      async () => (await p.client.getConnectorStatus(name)).tasks[0]?.state === 'RUNNING',
    );
  });

  it("shows each customer's counts (delivered, waiting, parked, stale-dropped, DLQ)", async () => {
    await page.goto(`${p.url}/console/#overview`);
    for (const customer of ['acme', 'globex']) {
      const row = page.locator(`tr.customer[data-customer="${customer}"]`);
      await row.waitFor({ timeout: 15_000 });
      await eventually(
        `${customer} delivered > 0`,
        async () => Number((await row.locator('.delivered').textContent())?.replace(/\D/g, '')) > 0,
      );
    }
    await screenshot(page, 'overview');
  });

  it('shows hostile names and traces as text, never as markup', async () => {
    const name = `<img src=x onerror="window.__pwned=1">-${p.runId}`;
    await p.client.createConnector(name, {
      'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
      'tasks.max': '1',
      topics: `console.${p.runId}.hostile`,
      file: '/nonexistent-dir/<script>window.__pwned=2</script>/out.txt',
    });
    try {
      await page.goto(`${p.url}/console/#overview`);
      const row = page.locator('tr.connector').filter({ hasText: name });
      await row.waitFor({ timeout: 15_000 });
      expect(await page.locator('main img, main script').count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    } finally {
      await p.client.deleteConnector(name);
    }
  });
});

describe('console: plots', () => {
  it('draws the last minutes per customer: capture lag, delivery lag, records per second, parked', async () => {
    await sql(
      `INSERT INTO erp.shipment ("SHPMT_NO", "Z_CUST_CD", "STAT_CD", "NET_AMT") VALUES ($1, 'AC01', '10', 12.50)`,
      [SHIPMENT],
    );
    await page.goto(`${p.url}/console/#plots?customer=acme`);
    const points = (title: string) =>
      page.locator(`figure[data-title^="${title}"] svg`).getAttribute('data-points', { timeout: 10_000 });
    for (const title of ['Capture lag', 'Delivery lag', 'Records per second', 'Parked']) {
      await eventually(`points in ${title}`, async () => Number(await points(title)) > 0, 30_000);
    }
    expect(await page.locator('#plot-customer').inputValue()).toBe('acme');
    await eventually('shipment delivered', async () => delivered('acme', 'shipment', SHIPMENT));
    await screenshot(page, 'plots');
  });
});

describe('console: parked records', () => {
  it('a document written before its domain registration appears as parked, and disappears once released', async () => {
    await sql(
      `INSERT INTO erp.document ("DOC_ID", "SHPMT_NO", "DOC_TYP", "Z_CUST_CD") VALUES ($1, $2, 'INV', 'AC01')`,
      [DOC, SHIPMENT],
    );
    await page.goto(`${p.url}/console/#parked?customer=acme`);
    const row = page.locator(`tr.parked-record[data-entity-id="${DOC}"]`);
    await row.waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toContain('acme');
    await screenshot(page, 'parked');
    await sql(`INSERT INTO erp.document_domain ("DOC_ID", "DOMAIN") VALUES ($1, 'acme')`, [DOC]);
    await row.waitFor({ state: 'detached', timeout: 30_000 });
    await eventually('document delivered to acme', async () => delivered('acme', 'document', String(DOC)));
  });
});

describe('console: dead letters', () => {
  it('a poison record is browsed with its error context, redriven after the fix, and delivered', async () => {
    // Its remark is markup: the page must show it as text.
    await sql(
      `INSERT INTO erp.shipment ("SHPMT_NO", "Z_CUST_CD", "STAT_CD", "NET_AMT", "REMARK") VALUES ($1, 'AC01', '77', 1.00, $2)`,
      [POISON, '<img src=x onerror="window.__pwned=3">'],
    );
    await eventually('poison row in the DLQ', async () => p.collector.deadLetters.some((d) => d.id === POISON));
    const sink = p.sink('acme', 'shipment');
    // The overview's DLQ link names only the customer: the view must open on the sink that has the dead letter,
    // not on the customer's first sink (which shares the topic and has none).
    await page.goto(`${p.url}/console/#dlq?customer=acme`);
    await page.locator('tr.dlq-record', { hasText: POISON }).waitFor({ timeout: 20_000 });
    expect(await page.locator('#dlq-connector').inputValue()).toBe(sink);
    await page.goto(`${p.url}/console/#dlq?customer=acme&connector=${encodeURIComponent(sink)}`);
    const row = page.locator('tr.dlq-record', { hasText: POISON });
    await row.waitFor({ timeout: 20_000 });
    expect(await row.textContent()).toMatch(/77/);
    await row.getByRole('button', { name: 'Value' }).click();
    const payload = page.locator('tr.dlq-detail:visible');
    expect(await payload.textContent()).toContain('onerror');
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    await screenshot(page, 'dlq');
    // The fix: the ERP learns code 77 (the translation table is re-read every second in this pipeline).
    await sql(`INSERT INTO erp.code_translation (table_name, code, value) VALUES ('shipment_status', '77', 'ON_HOLD')`);
    await new Promise((r) => setTimeout(r, 2500));
    expect(delivered('acme', 'shipment', POISON)).toBe(false);
    await row.getByRole('button', { name: 'Redrive' }).click();
    await page.locator('#status', { hasText: /1 redriven/ }).waitFor({ timeout: 20_000 });
    await eventually('redriven shipment delivered to acme', async () => delivered('acme', 'shipment', POISON), 30_000);
    // Never to the other customer.
    expect(delivered('globex', 'shipment', POISON)).toBe(false);
  });
});

describe('console: lineage', () => {
  it('finds a delivered document with its source event and destination offsets', async () => {
    await page.goto(`${p.url}/console/#lineage`);
    await page.locator('#lineage-key').fill(String(DOC));
    await page.locator('#lineage-entity').fill('document');
    await page.getByRole('button', { name: 'Search' }).click();
    const delivery = page.locator('tr.delivery[data-customer="acme"]');
    await delivery.first().waitFor({ timeout: 20_000 });
    expect(await delivery.first().locator('.where').textContent()).toMatch(/^partition \d+, offset \d+$/);
    const source = page.locator('tr.source-event .offset');
    expect(await source.count()).toBeGreaterThan(0);
    expect(await source.first().textContent()).toMatch(/^\d+$/);
    expect(await page.locator('tr.delivery[data-customer="globex"]').count()).toBe(0);
    await screenshot(page, 'lineage');
  });
});

describe('console: access', () => {
  it('the page and its data endpoints need the REST credentials', async () => {
    for (const credentials of [undefined, { username: USER, password: 'wrong' }]) {
      const anon = await browser.newContext(credentials ? { httpCredentials: credentials } : {});
      const res = await anon.request.get(`${p.url}/console/`);
      expect(res.status()).toBe(401);
      for (const path of [
        '/console/app.js',
        '/erpstream/v1/metrics/history',
        '/erpstream/v1/customers',
        '/erpstream/v1/parked',
        '/erpstream/v1/dlq?connector=x',
        '/erpstream/v1/lineage?key=1',
      ]) {
        expect((await anon.request.get(`${p.url}${path}`)).status(), path).toBe(401);
      }
      expect((await anon.request.post(`${p.url}/erpstream/v1/dlq/redrive`, { data: {} })).status()).toBe(401);
      await anon.close();
    }
  });

  it('console.enabled=false: the page is a 404, on a worker of its own', async () => {
    const { worker } = await startTestWorker('console-off', { 'console.enabled': 'false' });
    try {
      const res = await page.goto(`${worker.url}/console/`);
      expect(res?.status()).toBe(404);
      expect(JSON.parse(await res!.text())).toEqual({ error_code: 404, message: 'HTTP 404 Not Found' });
    } finally {
      await worker.stop();
    }
  });
});

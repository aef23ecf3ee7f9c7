import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ProgressLine } from '../../../cli/demo/progress.js';
import { runDemo } from '../../../cli/demo/run.js';
import { requireEnv } from '../env.js';
import { launchChromium } from './browser.js';

/**
 * The "done when": `erpstream demo` prints its console's URL, and the page shows the demo's customers
 * live while the operations team works (the demo in this process, the real stack, the page in Chromium).
 */

let browser: Browser;
beforeAll(async () => {
  requireEnv('KAFKA_BROKERS');
  requireEnv('PG_URL');
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('the demo and its console', () => {
  it("prints the console's URL, and the page shows both customers' deliveries growing while it runs", async () => {
    const lines: string[] = [];
    let url: string | undefined;
    const seen: Array<Record<string, number>> = [];
    let watching: Promise<void> | undefined;
    const watch = async (consoleUrl: string) => {
      const page = await browser.newPage();
      try {
        await page.goto(consoleUrl);
        for (let i = 0; i < 40 && seen.length < 2; i++) {
          await page.waitForTimeout(1000);
          const rows = await page
            .locator('tr.customer')
            .evaluateAll((trs) =>
              trs.map((tr) => [
                tr.getAttribute('data-customer') ?? '',
                Number(tr.querySelector('.delivered')?.textContent?.replace(/\D/g, '') || 0),
              ]),
            );
          const delivered = Object.fromEntries(rows) as Record<string, number>;
          const last = seen.at(-1);
          if (
            Object.keys(delivered).length === 2 &&
            Object.values(delivered).every((n) => n > 0) &&
            (!last || Object.keys(delivered).some((c) => delivered[c]! > (last[c] ?? 0)))
          ) {
            seen.push(delivered);
          }
        }
      } finally {
        await page.close();
      }
    };
    const result = await runDemo({
      durationMs: 15_000,
      keep: false,
      format: 'json',
      env: process.env,
      log: (l) => {
        lines.push(l);
        const m = /Operations console: (http:\/\/127\.0\.0\.1:\d+\/console\/)/.exec(l);
        if (m && !url) {
          url = m[1]!;
          watching = watch(url);
        }
      },
      progress: new ProgressLine(new PassThrough()),
      settleTimeoutMs: 60_000,
    });
    await watching;
    expect(url, lines.join('\n')).toBeDefined();
    expect(result.consoleUrl).toBe(url);
    expect(result.summary?.ok, lines.join('\n')).toBe(true);
    // Two readings of the overview, both customers delivered to, and the later one higher: live, not a snapshot.
    expect(seen.length, JSON.stringify(seen)).toBe(2);
    expect(Object.keys(seen[0]!).sort()).toEqual(['acme', 'globex']);
  });
});

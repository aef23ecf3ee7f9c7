import { existsSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core: no browser download. CHROMIUM_PATH points elsewhere when the
 * browser lives somewhere else. Missing, it fails with how to get it (CI installs it: .ci/run's PKGS).
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH?.trim() || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium is not installed at ${executablePath}: the console's browser tests need it ` +
        '(sudo apt-get install chromium; .ci/run installs it in CI), or set CHROMIUM_PATH.',
    );
  }
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** ERPSTREAM_SCREENSHOTS=1 (npm run screenshots) writes the docs' pictures of each view to docs/images/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!process.env.ERPSTREAM_SCREENSHOTS) return;
  const dir = path.resolve('docs/images');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `console-${name}.png`), fullPage: true });
}

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { Test } from 'tap';
import { packageRoot } from '../../src/config/local.js';

/** Where the browser tests find Chromium; `missing` skips them (outside CI, where it must be there). */
export const CHROMIUM = '/usr/bin/chromium';
export const missing = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`;
if (missing && process.env.CI) throw new Error(missing);

/** Where the browser tests put their screenshots (made on launch). */
export const ARTIFACTS = join(packageRoot(), 'test-artifacts');

/** Chromium, closed at the end of the test; the screenshots' folder exists by then. */
export async function launch(t: Pick<Test, 'teardown'>): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking'],
  });
  t.teardown(() => browser.close());
  await mkdir(ARTIFACTS, { recursive: true });
  return browser;
}

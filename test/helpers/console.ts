import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Test } from 'tap';
import type { TestBroker } from './broker.js';
import { TestBrowser } from './browser.js';
import { watch, type Watch } from './journey.js';

/** Where the console's browser journeys find Chromium; `missing` skips them (outside CI). */
export const CHROMIUM = '/usr/bin/chromium';
export const missing = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`;
if (missing && process.env.CI) throw new Error(missing);

/** Chromium, closed at the end of the test. */
export async function launch(t: Pick<Test, 'teardown'>): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking'],
  });
  t.teardown(() => browser.close());
  return browser;
}

/** An operator signed in with the admin token, in a watched context of its own. */
export async function operator(
  t: Pick<Test, 'teardown'>,
  browser: Browser,
  broker: TestBroker,
): Promise<{ page: Page; journey: Watch }> {
  const context = await browser.newContext();
  const journey = await watch(context, t);
  const page = await context.newPage();
  await page.goto(`${broker.url}/console`);
  await page.getByLabel('Admin token').fill(broker.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Tenants' }).waitFor();
  return { page, journey };
}

/** The IdP engineer saves IdP settings through a setup link's form, as their browser would. */
export async function draftThroughLink(link: string, settings: Record<string, string>) {
  const engineer = new TestBrowser();
  const page = await (await engineer.request(link)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  const saved = await engineer.request(`${link}/draft`, {
    form: { csrf, idp: 'other', tokenEndpointAuthMethod: 'client_secret_post', ...settings },
  });
  if (saved.status >= 400) throw new Error(`draft: ${saved.status}`);
}

import type { Browser, Page } from 'playwright-core';
import type { Test } from 'tap';
import type { TestBroker } from './broker.js';
import { TestBrowser } from './browser.js';
import { watch, type Watch } from './journey.js';

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

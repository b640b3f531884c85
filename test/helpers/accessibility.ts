import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** One scanning page per browser, in a context of its own; scans take turns on it. */
const scanners = new WeakMap<Browser, Promise<Page>>();
let turn: Promise<unknown> = Promise.resolve();

function scannerOf(browser: Browser): Promise<Page> {
  let scanner = scanners.get(browser);
  if (!scanner) {
    scanner = browser.newContext().then((context) => context.newPage());
    scanners.set(browser, scanner);
  }
  return scanner;
}

/**
 * axe-core's checks on the page as it is now: the serious and critical violations, as
 * "rule: help (targets)" lines — none is the bar. Our pages allow no injected script, and the
 * journey keeps their real CSP, so axe runs on a copy: the page's HTML, written into a page of a
 * context of its own (about:blank, which has no CSP), at the same viewport size. The pages'
 * styles are inline, so the copy renders as the page does; the journey's page is left untouched.
 */
export function seriousViolations(page: Page): Promise<string[]> {
  const scan = turn.then(() => scanCopy(page));
  turn = scan.catch(() => undefined);
  return scan;
}

async function scanCopy(page: Page): Promise<string[]> {
  const markup = await page.content();
  const browser = page.context().browser();
  if (!browser) throw new Error('the page has no browser to open a scanning context in');
  const copy = await scannerOf(browser);
  const viewport = page.viewportSize();
  if (viewport) await copy.setViewportSize(viewport);
  // A refresh would take the copy elsewhere: the markup is scanned as it stands.
  await copy.setContent(markup.replace(/<meta http-equiv="refresh"[^>]*>/gi, ''));
  // Writing a document keeps the window, and axe with it: it is injected once per scanner.
  if (!(await copy.evaluate(() => 'axe' in globalThis))) await copy.addScriptTag({ path: axePath });
  const violations = await copy.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Violation[] }> } }).axe;
    return (await axe.run()).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`);
}

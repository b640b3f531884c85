/**
 * Waits for `condition` instead of sleeping a fixed time: polls every 10 ms and answers as
 * soon as it holds, or false after `timeoutMs` (a generous bound, never a timing assertion).
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; Date.now() < end;) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}

/** Waits until a broker at `base` answers /readyz with 2xx (a process starting, migrating). */
export function waitUntilReady(base: string, timeoutMs: number): Promise<boolean> {
  return waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok === true, timeoutMs);
}

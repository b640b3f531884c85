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

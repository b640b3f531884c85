/** The registered return URL with our parameters added; its own query parameters are kept. */
export function withParams(returnTo: string, params: Record<string, string | undefined>): string {
  const url = new URL(returnTo);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url.href;
}

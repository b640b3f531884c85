/** The error code `run` throws (a BrokerError's), or null when it returns: for steps without HTTP. */
export function codeOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    return (error as { code: string }).code;
  }
}

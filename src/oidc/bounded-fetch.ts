/**
 * Every request to an IdP goes through here: an answer larger than `maxBytes` is abandoned
 * while it streams in (a hostile or broken IdP cannot make the broker buffer megabytes), and
 * the caller's AbortSignal bounds the time.
 */
export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError';
}

export const MAX_IDP_RESPONSE_BYTES = 512 * 1024;

export function boundedFetch(maxBytes = MAX_IDP_RESPONSE_BYTES): typeof fetch {
  return async (url: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const response = await fetch(url, init);
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > maxBytes) {
      await response.body?.cancel();
      throw new ResponseTooLargeError(`IdP answer of ${declared} bytes exceeds ${maxBytes}`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          await reader.cancel();
          throw new ResponseTooLargeError(`IdP answer exceeds ${maxBytes} bytes`);
        }
        chunks.push(value);
      }
    }
    return new Response(response.body ? Buffer.concat(chunks) : null, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

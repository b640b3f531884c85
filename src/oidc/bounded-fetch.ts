import { isIP } from 'node:net';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import { IdpAddressRefused, schemeOf, type IdpNetworkPolicy } from './network-policy.js';

/**
 * Every request to an IdP goes through here, as the `fetch` openid-client and jose are given:
 * - only where the network policy allows (network-policy.ts), checked when connecting: the
 *   connection goes to an address the check approved, whatever the name resolves to later;
 * - over undici's `request` on a keep-alive agent: one pooled connection per IdP is reused
 *   across logins, and a login pays for neither the WHATWG fetch machinery nor a TLS handshake
 *   (the answer is handed back as a standard Response over the text read; a hand-made one,
 *   dropped in 99815ef..a6b6198, cost 38 µs a login against the standard one's 139 over a
 *   Buffer, building and json() together, in the bench's profiles: docs/performance.md);
 * - an answer larger than `maxBytes` is abandoned while it streams in (a hostile or broken IdP
 *   cannot make the broker buffer megabytes);
 * - redirects are never followed, and the caller's AbortSignal bounds the time.
 */
export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError';
}

export const MAX_IDP_RESPONSE_BYTES = 512 * 1024;

/**
 * Connections to IdPs, kept alive between logins, opened only to addresses `policy` allows.
 * Names resolve through the policy's lookup, which checks every address and hands back only
 * those; node:net skips lookup for IP literals, so those are checked here before connecting.
 */
export function policedAgent(policy: IdpNetworkPolicy): Agent {
  const connectors = {
    'https:': buildConnector({ lookup: policy.netLookup('https:') }),
    'http:': buildConnector({ lookup: policy.netLookup('http:') }),
  };
  const connect: buildConnector.connector = (options, callback) => {
    // A refusal is reported asynchronously, as a failed connection would be.
    const refuse = (reason: string) =>
      process.nextTick(() => callback(new IdpAddressRefused(`${options.protocol}//${options.host}`, reason), null));
    const scheme = options.protocol === 'https:' ? 'https:' : options.protocol === 'http:' ? 'http:' : undefined;
    if (!scheme) return refuse('IdP URLs must use https');
    if (isIP(options.hostname)) {
      const problem = policy.addressProblem(options.hostname, scheme);
      if (problem) return refuse(problem);
    }
    connectors[scheme](options, callback);
  };
  return new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000, connect });
}

/** Statuses whose Response may not have a body (the Fetch standard's null body statuses). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * A fetch for IdP requests under `policy`, with its own pool of kept-alive connections: build
 * one per component and reuse it (a new one per request would pay a TCP and TLS handshake).
 */
export function boundedFetch(options: {
  policy: IdpNetworkPolicy;
  maxBytes?: number;
  /**
   * undici interceptors between the caller and the policed connections (an egress proxy, or
   * the interop tests' routing of a real IdP's origin to a local stand-in). They act before
   * connecting, so whatever they route to is still checked by the policy.
   */
  interceptors?: readonly Dispatcher.DispatcherComposeInterceptor[];
}): typeof fetch {
  const maxBytes = options.maxBytes ?? MAX_IDP_RESPONSE_BYTES;
  const policed = policedAgent(options.policy);
  const agent: Dispatcher = options.interceptors?.length ? policed.compose(...options.interceptors) : policed;
  return (async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    schemeOf(url);
    const body = init.body instanceof URLSearchParams ? init.body.toString() : (init.body as string | null | undefined);
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(url, {
        method: (init.method ?? 'GET') as 'GET',
        headers: init.headers as Record<string, string> | undefined,
        body,
        signal: init.signal ?? undefined,
        dispatcher: agent,
      });
    } catch (error) {
      // The connector knows only the origin; the operator needs the URL.
      throw error instanceof IdpAddressRefused ? error.forUrl(url) : error;
    }
    const declared = Number(response.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      response.body.destroy();
      throw new ResponseTooLargeError(`IdP answer of ${declared} bytes exceeds ${maxBytes}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        response.body.destroy();
        throw new ResponseTooLargeError(`IdP answer exceeds ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (Array.isArray(value)) for (const item of value) headers.append(name, item);
      else if (value !== undefined) headers.set(name, value);
    }
    const status = response.statusCode;
    const bytes = Buffer.concat(chunks);
    // As text when the IdP named its type: Node 20's Response over a Buffer costs about twice as
    // much to build and read (32 against 19 µs with json()); IdP answers are text (JSON or a JWT),
    // decoded as json() would. Without a type, bytes, so none is made up (text/plain).
    const answer = NULL_BODY_STATUSES.has(status) ? null : headers.has('content-type') ? bytes.toString('utf8') : bytes;
    return new Response(answer, { status, headers });
  }) as typeof fetch;
}

import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Which addresses the broker may contact for a tenant's IdP (contract, Configuration: IdP URLs
 * and IDP_PRIVATE_NETWORKS). Every organisation brings its own IdP and some IdP will be
 * hostile: without this rule a connection could point the broker at its own network (the
 * database, the admin port, a cloud metadata service) and read the answers back through the
 * validation report or the login's error (SSRF).
 *
 * - `https` to public addresses (ipaddr.js range `unicast`), or to addresses inside
 *   IDP_PRIVATE_NETWORKS;
 * - `http` only when every address is a loopback address inside IDP_PRIVATE_NETWORKS
 *   (development and tests);
 * - link-local (169.254.0.0/16, fe80::/10: cloud metadata services) and the unspecified
 *   address (0.0.0.0 and :: reach this host) never, even when listed.
 *
 * Checked for every address a name resolves to, when the broker connects (bounded-fetch.ts),
 * so a name that later resolves elsewhere (DNS rebinding) is refused too.
 */

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to all of its addresses (default: the system resolver, as node:net would). */
export type IdpLookup = (hostname: string) => Promise<ResolvedAddress[]>;

export type IdpScheme = 'https:' | 'http:';

/** An IdP URL the policy refuses: the URL and the reason, in words an operator can act on. */
export class IdpAddressRefused extends Error {
  override name = 'IdpAddressRefused';
  readonly code = 'IDP_ADDRESS_REFUSED';

  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`${url}: ${reason}`);
  }

  /** The same refusal, naming the full URL (the connector only knows the origin). */
  forUrl(url: string): IdpAddressRefused {
    return url === this.url ? this : new IdpAddressRefused(url, this.reason);
  }
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

const RANGE_NAMES: Record<string, string> = {
  private: 'a private address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT (100.64.0.0/10) address',
  uniqueLocal: 'a unique-local (fc00::/7) address',
  reserved: 'a reserved address',
  benchmarking: 'a benchmarking address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  rfc6052: 'a NAT64 (64:ff9b::/96) address',
  rfc6145: 'an IPv4-translated address',
  '6to4': 'a 6to4 address',
  teredo: 'a Teredo address',
};

const defaultLookup: IdpLookup = (hostname) => dnsLookup(hostname, { all: true });

export class IdpNetworkPolicy {
  readonly privateNetworks: readonly string[];
  readonly #networks: Cidr[];
  readonly #lookup: IdpLookup;
  readonly #setting: string;

  /**
   * `setting`: the variable that lists `privateNetworks`, named in refusals (the same policy
   * governs webhook endpoints, with WEBHOOK_PRIVATE_NETWORKS).
   * @throws Error when an entry of `privateNetworks` is not a CIDR range.
   */
  constructor(options: {
    privateNetworks: readonly string[];
    lookup?: IdpLookup | undefined;
    setting?: 'IDP_PRIVATE_NETWORKS' | 'WEBHOOK_PRIVATE_NETWORKS';
  }) {
    this.privateNetworks = Object.freeze([...options.privateNetworks]);
    this.#networks = options.privateNetworks.map(parseNetwork);
    this.#lookup = options.lookup ?? defaultLookup;
    this.#setting = options.setting ?? 'IDP_PRIVATE_NETWORKS';
  }

  /**
   * Why `address` may not be contacted over `scheme`, or undefined when it may. With
   * `hostname`, the reason says the name resolved to it.
   */
  addressProblem(address: string, scheme: IdpScheme, hostname?: string): string | undefined {
    const ip = judgedAs(ipaddr.process(address));
    const subject = hostname === undefined ? `${ip} is ` : `${hostname} resolves to ${ip}, `;
    const never = neverContacted(ip);
    if (never) return `${subject}${never}, never contacted`;
    const listed = this.#networks.some(([network, bits]) => network.kind() === ip.kind() && ip.match(network, bits));
    if (scheme === 'http:') {
      // Plain http only where nobody can sit in between: this machine, and only when listed.
      if (ip.range() === 'loopback' && listed) return undefined;
      const what =
        ip.range() === 'loopback'
          ? 'a loopback address not listed'
          : ip.range() === 'unicast'
            ? 'a public address'
            : describe(ip);
      return `http is accepted only on loopback addresses listed in ${this.#setting} (${subject}${what})`;
    }
    if (listed || ip.range() === 'unicast') return undefined;
    return `${subject}${describe(ip)} outside ${this.#setting}`;
  }

  /**
   * The addresses `hostname` may be contacted at over `scheme`: all it resolves to, each
   * allowed; otherwise throws IdpAddressRefused naming `url`. An IP literal is checked as is.
   * Resolver failures (no such name) are thrown as they come.
   */
  async resolve(url: string, hostname: string, scheme: IdpScheme): Promise<ResolvedAddress[]> {
    const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    const literal = isIP(bare);
    const addresses = literal ? [{ address: bare, family: literal }] : await this.#lookup(bare);
    if (addresses.length === 0) throw new IdpAddressRefused(url, `${bare} resolves to no address`);
    // Every address counts: a connection may go to any of them (happy eyeballs, retries).
    for (const { address } of addresses) {
      const problem = this.addressProblem(address, scheme, literal ? undefined : bare);
      if (problem) throw new IdpAddressRefused(url, problem);
    }
    return addresses;
  }

  /** Checks a URL as a connection to it would be checked: its scheme, then its host's addresses. */
  async assertAllowed(url: string): Promise<void> {
    const parsed = new URL(url);
    await this.resolve(url, parsed.hostname, schemeOf(url, parsed));
  }

  /**
   * A node:net `lookup` for connections over `scheme`: resolves through the policy's resolver,
   * checks every address, and hands back only checked addresses, so the socket can only go
   * where the check approved. Node asks for all addresses (`all: true`) when it races IPv4
   * against IPv6 (autoSelectFamily, on by default since Node 20). Refusals name the origin;
   * bounded-fetch.ts puts the full URL in.
   */
  netLookup(scheme: IdpScheme) {
    return (
      hostname: string,
      options: LookupOptions,
      callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
    ): void => {
      this.resolve(`${scheme}//${hostname}`, hostname, scheme).then(
        (resolved) => {
          const wanted =
            options.family === 4 || options.family === 6
              ? resolved.filter((a) => a.family === options.family)
              : resolved;
          if (wanted.length === 0) {
            const error: NodeJS.ErrnoException = new Error(`${hostname} has no IPv${options.family} address`);
            error.code = 'ENOTFOUND';
            return callback(error, '');
          }
          const [first] = wanted;
          if (options.all || !first) {
            return callback(
              null,
              wanted.map(({ address, family }) => ({ address, family })),
            );
          }
          callback(null, first.address, first.family);
        },
        (error: NodeJS.ErrnoException) => callback(error, ''),
      );
    };
  }
}

/** The scheme of an IdP URL; anything but https and http is refused outright. */
export function schemeOf(url: string, parsed = new URL(url)): IdpScheme {
  if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return parsed.protocol;
  throw new IdpAddressRefused(url, 'IdP URLs must use https');
}

function parseNetwork(cidr: string): Cidr {
  if (!ipaddr.isValidCIDR(cidr)) throw new Error(`"${cidr}" is not a CIDR range such as 10.0.0.0/8 or ::1/128`);
  const [network, bits] = ipaddr.parseCIDR(cidr);
  // ::ffff:10.0.0.0/104 means 10.0.0.0/8: addresses are compared after unwrapping (process()).
  if (network.kind() === 'ipv6' && (network as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    return [(network as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  return [network, bits];
}

/**
 * The address whose rules apply: a NAT64 address (64:ff9b::/96, RFC 6052) reaches the IPv4
 * address it carries, so it is judged as that address — a public IdP behind DNS64 is allowed,
 * an internal one is not, whether or not the NAT64 prefix is listed.
 */
function judgedAs(ip: Address): Address {
  return (ip.kind() === 'ipv6' && ip.range() === 'rfc6052' && embeddedIpv4(ip)) || ip;
}

/** Addresses no listing can allow, with the reason. */
function neverContacted(ip: Address): string | undefined {
  // Cloud metadata services (169.254.169.254) hand out credentials to whoever asks from the
  // instance: no operator means to list them.
  if (ip.range() === 'linkLocal') return 'a link-local address (cloud metadata)';
  if (ip.range() === 'unspecified') return 'the unspecified address (it reaches this host)';
  // ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291 §2.5.5.1): no legitimate use, and
  // ipaddr.js would call it unicast.
  if (ip.kind() === 'ipv6') {
    const parts = (ip as ipaddr.IPv6).parts;
    if (parts.slice(0, 6).every((part) => part === 0) && ip.range() !== 'loopback')
      return 'an IPv4-compatible IPv6 address (deprecated)';
  }
  // The same through an IPv6 prefix that carries an IPv4 address (NAT64, 6to4, IPv4-translated).
  const embedded = embeddedIpv4(ip);
  if (embedded?.range() === 'linkLocal') return `a link-local address (cloud metadata, ${embedded}) in IPv6 form`;
  return undefined;
}

function embeddedIpv4(ip: Address): ipaddr.IPv4 | undefined {
  if (ip.kind() !== 'ipv6') return undefined;
  const v6 = ip as ipaddr.IPv6;
  const bytes = v6.toByteArray();
  switch (v6.range()) {
    case 'rfc6052':
    case 'rfc6145':
      return new ipaddr.IPv4(bytes.slice(12, 16));
    case '6to4':
      return new ipaddr.IPv4(bytes.slice(2, 6));
    case 'teredo':
      return new ipaddr.IPv4(bytes.slice(12, 16).map((byte) => byte ^ 0xff));
    default:
      return undefined;
  }
}

function describe(ip: Address): string {
  const range = ip.range();
  return RANGE_NAMES[range] ?? `a non-public (${range}) address`;
}

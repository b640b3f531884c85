/**
 * Host names as tenant routing and login cookies compare them: a Host header (or
 * X-Forwarded-Host) value lower-cased, without its port; an IPv6 literal keeps its brackets.
 */
export function hostnameOf(host: string): string {
  const lower = host.toLowerCase();
  return lower.startsWith('[') ? lower.slice(0, lower.indexOf(']') + 1) : lower.replace(/:\d+$/, '');
}

/** `hostname` is `domain` itself or a name below it (`acme.sso.example.com` within `sso.example.com`). */
export function isWithinDomain(hostname: string, domain: string): boolean {
  return hostname === domain || hostname.endsWith(`.${domain}`);
}

/** The domain of an email address or email-like login hint, lowercased. */
export function emailDomain(value: string | undefined): string | undefined {
  const at = value?.lastIndexOf('@') ?? -1;
  if (!value || at < 1 || at === value.length - 1) return undefined;
  return value.slice(at + 1).toLowerCase();
}

/**
 * TENANT_DOMAIN, when PUBLIC_URL's host is it or below it: then a login started on a tenant
 * subdomain can set its cookie for TENANT_DOMAIN and it reaches the callback. Otherwise
 * cookies stay host-only.
 */
export function subdomainCookieDomain(tenantDomain: string | undefined, callbackUrl: string): string | undefined {
  const parent = tenantDomain === undefined ? undefined : hostnameOf(tenantDomain);
  return parent !== undefined && isWithinDomain(new URL(callbackUrl).hostname, parent) ? parent : undefined;
}

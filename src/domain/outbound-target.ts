import { BlockList, isIP } from 'node:net'

// Where the mirror may send merchant webhooks (SPEC §2.4): http(s) only, no credentials in the
// URL, and — when the operator configures an allow-list — only to the hosts and IP ranges on it.
// A host entry matches the URL's host name exactly (case-insensitive); a CIDR entry matches a URL
// whose host is an IP literal inside the range. Names are not resolved here: what a name resolves
// to can change between this check and the request, so an operator who wants to pin addresses
// lists them as IP ranges and gives endpoints IP URLs.

export interface TargetPolicy {
  /** Why this URL may not be a webhook target, or null when it may. */
  refuse (url: string): string | null
}

/** An empty allow-list allows any host. Entries are as MERCHANT_WEBHOOK_ALLOWED_TARGETS validated them (src/config.ts). */
export function targetPolicy (allowed: readonly string[]): TargetPolicy {
  const hosts = new Set<string>()
  const ranges = new BlockList()
  for (const entry of allowed) {
    const [address = '', prefix] = entry.split('/')
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
    if (prefix !== undefined) ranges.addSubnet(address, Number(prefix), family)
    else if (isIP(address) !== 0) ranges.addAddress(address, family)
    else hosts.add(entry.toLowerCase())
  }
  return {
    refuse (value) {
      if (!URL.canParse(value)) return 'must be an absolute URL'
      const url = new URL(value)
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL'
      if (url.username !== '' || url.password !== '') return 'must not carry credentials (user:password@)'
      if (url.hostname === '') return 'must name a host'
      if (allowed.length === 0) return null
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()
      const family = isIP(host)
      if (family !== 0 ? ranges.check(host, family === 6 ? 'ipv6' : 'ipv4') : hosts.has(host)) return null
      return 'host is not in MERCHANT_WEBHOOK_ALLOWED_TARGETS'
    }
  }
}

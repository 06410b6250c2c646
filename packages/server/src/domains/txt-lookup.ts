import { Resolver } from 'node:dns/promises'
import { isIP } from 'node:net'
import { OrgkitError } from '@orgkit/core'

/**
 * DNS TXT look-ups for domain verification (issue 21.2). The resolver is configurable (ORGKIT_DNS_RESOLVER,
 * `host:port`; default the system's), asked once with a timeout: a verification is a person waiting.
 */
export interface TxtLookup {
  /**
   * The TXT records at `name`, each one's strings joined (RFC 7208 §3.3 reads a record so); `[]` when the
   * name has none or does not exist. Throws DNS_UNAVAILABLE when the resolver did not answer.
   */
  txt(name: string): Promise<string[]>
}

export interface TxtLookupOptions {
  /** `ip`, `ip:port` or `[ipv6]:port`; undefined: the system's resolvers. */
  resolver?: string | undefined
  /** How long to wait for an answer, in milliseconds (default 5000). */
  timeoutMs?: number | undefined
}

/** Answers that mean "no such record", as opposed to "no answer". */
const ABSENT = new Set(['ENODATA', 'ENOTFOUND'])

export function dnsTxtLookup(options: TxtLookupOptions = {}): TxtLookup {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 5000, tries: 2 })
  if (options.resolver) resolver.setServers([parseResolverAddress(options.resolver)])
  return {
    async txt(name) {
      try {
        return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''))
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'EUNKNOWN'
        if (ABSENT.has(code)) return []
        throw new OrgkitError('DNS_UNAVAILABLE', `the DNS resolver did not answer for ${name}: try again`, {
          name,
          dnsError: code,
        })
      }
    },
  }
}

/**
 * ORGKIT_DNS_RESOLVER as `setServers` takes it: an IP address, with a port or not. A host name is refused
 * (resolving the resolver would need a resolver), as is anything else, at start-up.
 */
export function parseResolverAddress(value: string): string {
  const v = value.trim()
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(v)
  const hostPort = /^([^:]+):(\d{1,5})$/.exec(v)
  const [host, port] = bracketed
    ? [bracketed[1]!, bracketed[2]]
    : hostPort
      ? [hostPort[1]!, hostPort[2]]
      : [v, undefined]
  const portOk = port === undefined || (Number(port) >= 1 && Number(port) <= 65535)
  if (!isIP(host) || !portOk) {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      `ORGKIT_DNS_RESOLVER must be an IP address with an optional port (1.1.1.1, 127.0.0.1:5353, [::1]:53), not "${value}"`,
      { field: 'ORGKIT_DNS_RESOLVER' },
    )
  }
  if (port === undefined) return host
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}

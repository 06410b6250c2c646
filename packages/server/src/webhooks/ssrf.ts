import { type LookupAddress, lookup as lookupCallback } from 'node:dns'
import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'
import { OrgkitError } from '@orgkit/core'
import type { Agent } from 'undici'

/** Loopback, private, link-local, CGNAT, multicast and reserved ranges: never a webhook receiver by default. */
const blocked = new BlockList()
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, bits, 'ipv4')
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['::ffff:0:0', 96],
] as const) {
  blocked.addSubnet(net, bits, 'ipv6')
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address)
  return family === 0 || blocked.check(address, family === 6 ? 'ipv6' : 'ipv4')
}

/**
 * Checks a receiver URL: http(s) only, no credentials, and (unless private networks are allowed) every
 * address the host resolves to is public. Run at creation and again before each delivery (DNS can change).
 */
export async function assertReceiver(raw: string, allowPrivate: boolean): Promise<URL> {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new OrgkitError('VALIDATION_FAILED', 'not a URL', { field: 'url' })
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OrgkitError('VALIDATION_FAILED', 'webhooks go to http(s) URLs', { field: 'url' })
  }
  if (url.username || url.password)
    throw new OrgkitError('VALIDATION_FAILED', 'no credentials in the URL', { field: 'url' })
  if (allowPrivate) return url
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const addresses = isIP(host)
    ? [host]
    : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address)
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) {
    throw new OrgkitError(
      'VALIDATION_FAILED',
      'the host is on a private network (loopback, LAN or link-local): this server calls public addresses only',
      // Said to an org's admin, who can't change the server: the operator's switch is in docs/webhooks.md.
      { field: 'url', reason: 'private_network' },
    )
  }
  return url
}

/**
 * The HTTP agent deliveries go through. It checks the addresses the connection itself resolves, not only
 * those `assertReceiver` saw a moment before: a host answering with a public address at the check and a
 * private one at connect time (DNS rebinding) is refused. IP literals are checked by `assertReceiver`.
 */
export async function receiverAgent(allowPrivate: boolean): Promise<Agent> {
  const { Agent } = await undici()
  return new Agent({
    connect: {
      lookup: (hostname, options, callback) => {
        lookupCallback(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
          if (err) return callback(err, '', 0)
          if (
            addresses.length === 0 ||
            (!allowPrivate && addresses.some((a) => isPrivateAddress(a.address)))
          ) {
            const refused = Object.assign(new Error(`${hostname} resolves to a private address`), {
              code: 'EPRIVATEADDRESS',
            })
            return callback(refused, '', 0)
          }
          if ((options as { all?: boolean }).all)
            return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses)
          callback(null, addresses[0]!.address, addresses[0]!.family)
        })
      },
    },
  })
}

/** undici (its fetch and Agent), loaded on the first outgoing request (Node keeps it): most starts make none. */
export const undici = () => import('undici')

/** `receiverAgent(allowPrivate)`, made on first use and kept; `close()` closes it if it was made. */
export function lazyReceiverAgent(allowPrivate: boolean) {
  let made: Promise<Agent> | undefined
  return {
    get: () => {
      made ??= receiverAgent(allowPrivate)
      return made
    },
    close: async () => {
      await (await made)?.close()
    },
  }
}

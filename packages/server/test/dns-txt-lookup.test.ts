import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'
import { dnsTxtLookup, parseResolverAddress } from '../src/domains/txt-lookup.ts'
import { startDnsServer, type TestDnsServer } from './support/dns-server.ts'

/** Domain verification's DNS look-up (issue 21.2) against a real DNS server on loopback, and its setting. */
describe('TXT look-ups', () => {
  let dns: TestDnsServer
  beforeAll(async () => {
    dns = await startDnsServer()
  })
  afterAll(() => dns.close())

  it('reads every record, a split one joined; no record and no name are both none', async () => {
    dns.setTxt('_orgkit-challenge.a.test', ['v=spf1 -all', ['orgkit-verification=', 'abc']])
    dns.setTxt('empty.test', [])
    const lookup = dnsTxtLookup({ resolver: dns.address, timeoutMs: 100 })
    expect(await lookup.txt('_orgkit-challenge.a.test')).toEqual(['v=spf1 -all', 'orgkit-verification=abc'])
    expect(await lookup.txt('empty.test')).toEqual([])
    expect(await lookup.txt('nowhere.test')).toEqual([])
  })

  it('says DNS_UNAVAILABLE, never "no record", when the resolver fails, is silent or is not there', async () => {
    dns.failing('servfail.test')
    dns.silent('silent.test')
    const lookup = dnsTxtLookup({ resolver: dns.address, timeoutMs: 100 })
    await expect(lookup.txt('servfail.test')).rejects.toMatchObject({
      code: 'DNS_UNAVAILABLE',
      details: { dnsError: 'ESERVFAIL' },
    })
    await expect(lookup.txt('silent.test')).rejects.toMatchObject({ code: 'DNS_UNAVAILABLE' })
    expect(dns.asked('silent.test')).toBeGreaterThan(0)
    const other = await startDnsServer()
    const gone = other.address
    await other.close()
    await expect(dnsTxtLookup({ resolver: gone, timeoutMs: 100 }).txt('a.test')).rejects.toMatchObject({
      code: 'DNS_UNAVAILABLE',
    })
  })

  it('takes ORGKIT_DNS_RESOLVER as an IP address with an optional port, and nothing else', () => {
    expect(parseResolverAddress('1.1.1.1')).toBe('1.1.1.1')
    expect(parseResolverAddress(' 127.0.0.1:5353 ')).toBe('127.0.0.1:5353')
    expect(parseResolverAddress('[::1]:53')).toBe('[::1]:53')
    expect(parseResolverAddress('::1')).toBe('::1')
    for (const bad of ['dns.google', 'dns.google:53', '127.0.0.1:0', '127.0.0.1:70000', '1.2.3', ''])
      expect(() => parseResolverAddress(bad)).toThrow(/ORGKIT_DNS_RESOLVER/)
    expect(loadConfig({ ORGKIT_DNS_RESOLVER: '10.0.0.2:53' }).dnsResolver).toBe('10.0.0.2:53')
    expect(loadConfig({}).dnsResolver).toBeUndefined()
    expect(() => loadConfig({ ORGKIT_DNS_RESOLVER: 'resolver.internal' })).toThrow(/ORGKIT_DNS_RESOLVER/)
  })
})

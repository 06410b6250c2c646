import { randomUUID } from 'node:crypto'
import { inflateRawSync } from 'node:zlib'
import { isOrgkitError, presets } from '@orgkit/core'
import { migrate, openStore, orgDomains, type Store } from '@orgkit/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { embeddedTestDatabase } from '../../store/test/support/test-databases.ts'
import type { SsoCallback, SsoConnectionRef } from '../src/security/sso/protocol.ts'
import { createSamlProtocol, SAML_CLOCK_SKEW_MS, type SamlConfig } from '../src/security/sso/saml.ts'
import { DATABASES, type Reply, startTestServer, type TestServer } from './support/harness.ts'
import {
  IDP_KEY,
  OTHER_KEY,
  type ResponseOptions,
  type SamlIdp,
  type SamlPerson,
  signXml,
  startSamlIdp,
  type XmlNode,
  xmldom,
} from './support/saml-idp.ts'
import { type Person, signUp } from './support/sessions.ts'

/**
 * The SAML adapter against a real IdP's signed answers (issue 21.1): what it accepts, and each way an
 * answer is refused — every refusal asserted by its reason, so a test can't pass on another check's error.
 */
const SAMLP = 'urn:oasis:names:tc:SAML:2.0:protocol'
const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion'
const DSIG = 'http://www.w3.org/2000/09/xmldsig#'

/** The URLs services/sso.ts gives a SAML connection on a server at http://orgkit.test. */
const spOf = (id: string) => {
  const base = `http://orgkit.test/v1/auth/sso/saml/${id}`
  return { acsUrl: `${base}/acs`, entityId: `${base}/metadata` }
}

describe('SAML adapter', () => {
  let store: Store
  let idp: SamlIdp
  let now = Date.now()
  const clock = () => now
  const sp = spOf('conn-1')
  let protocol: ReturnType<typeof createSamlProtocol>
  let connection: SsoConnectionRef<SamlConfig>
  const alice = {
    nameId: 'idp-user-17',
    attributes: {
      email: 'Alice@Example.com',
      name: 'Alice Liddell',
      groups: ['engineering', 'admins'],
      dept: 'R&D',
    },
  }

  // A copy of the migrated template, not initdb and every migration (~4 s of CPU; issue 25.6).
  const embedded = embeddedTestDatabase()
  beforeAll(async () => {
    store = await openStore({ dataDir: embedded.dataDir })
    await migrate(store.db)
    idp = await startSamlIdp({ clock })
    protocol = createSamlProtocol({ clock, allowPrivate: true, db: store.db })
    connection = {
      id: 'conn-1',
      orgId: 'org-1',
      config: protocol.parseConfig({ metadataXml: idp.metadataXml }),
    }
  })
  afterAll(async () => {
    await idp?.close()
    await store?.close()
    embedded.remove()
  })

  let requests = 0
  /** A sign-in started at the adapter, and the IdP's answer to it (built with `change`). */
  function answer(change: Partial<ResponseOptions> = {}, pendingId?: string): SsoCallback {
    const requestId = `_req${++requests}`
    const SAMLResponse = idp.response({
      requestId,
      acsUrl: sp.acsUrl,
      audience: sp.entityId,
      person: alice,
      ...change,
    })
    return {
      currentUrl: new URL(sp.acsUrl),
      params: { SAMLResponse, RelayState: 'state-1' },
      pending: { requestId: pendingId ?? requestId },
      state: 'state-1',
    }
  }
  async function refusal(callback: SsoCallback, on = connection): Promise<string> {
    try {
      await protocol.finish(on, callback)
    } catch (error) {
      if (isOrgkitError(error, 'SSO_FAILED')) return String(error.details.reason)
      throw error
    }
    throw new Error('accepted')
  }
  /** The XML of a callback's response, changed by `edit`, posted again. */
  function edited(callback: SsoCallback, edit: (doc: XmlNode) => void): SsoCallback {
    const doc = new xmldom.DOMParser().parseFromString(
      Buffer.from(callback.params.SAMLResponse!, 'base64').toString(),
      'text/xml',
    )
    edit(doc)
    const SAMLResponse = Buffer.from(new xmldom.XMLSerializer().serializeToString(doc)).toString('base64')
    return { ...callback, params: { ...callback.params, SAMLResponse } }
  }
  const first = (doc: XmlNode, ns: string, name: string) => doc.getElementsByTagNameNS(ns, name)[0]!

  it('reads the IdP metadata into entity ID, HTTP-Redirect SSO URL and signing certificate', () => {
    expect(connection.config).toMatchObject({
      idpEntityId: idp.entityId,
      ssoUrl: idp.ssoUrl,
      wantAssertionsSigned: true,
      wantResponseSigned: false,
    })
    expect(connection.config.certificates).toHaveLength(1)
    expect(connection.config.certificates[0]!.replace(/\s+/g, '')).toBe(idp.certificate.replace(/\s+/g, ''))
  })

  it('starts with an AuthnRequest by HTTP-Redirect whose ID is kept as the pending request', async () => {
    const started = await protocol.start(connection, { callbackUrl: sp.acsUrl, state: 'st' })
    const url = new URL(started.redirectUrl)
    expect(url.origin + url.pathname).toBe(idp.ssoUrl)
    expect(url.searchParams.get('RelayState')).toBe('st')
    const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString()
    const request = new xmldom.DOMParser().parseFromString(xml, 'text/xml').documentElement
    expect(request.getAttribute('ID')).toBe(started.pending.requestId)
    expect(request.getAttribute('AssertionConsumerServiceURL')).toBe(sp.acsUrl)
    expect(request.getAttribute('Destination')).toBe(idp.ssoUrl)
    expect(first(request, SAML, 'Issuer').textContent).toBe(sp.entityId)
  })

  it('accepts a signed assertion and maps its attributes', async () => {
    const profile = await protocol.finish(connection, answer())
    expect(profile).toEqual({
      subject: 'idp-user-17',
      email: 'alice@example.com',
      emailVerified: true,
      name: 'Alice Liddell',
      groups: ['engineering', 'admins'],
      attributes: { groups: ['engineering', 'admins'], dept: 'R&D' },
    })
  })

  it('accepts a signed Response around an unsigned assertion only when assertions need no signature', async () => {
    const responseOnly = answer({ sign: { response: true } })
    expect(await refusal(responseOnly)).toBe('signature_invalid')
    const lenient = { ...connection, config: { ...connection.config, wantAssertionsSigned: false } }
    expect((await protocol.finish(lenient, answer({ sign: { response: true } }))).email).toBe(
      'alice@example.com',
    )
  })

  it('refuses an assertion whose attribute was changed after signing', async () => {
    const tampered = edited(answer(), (doc) => {
      const value = first(doc, SAML, 'AttributeValue')
      value.textContent = 'mallory@example.com'
    })
    expect(await refusal(tampered)).toBe('signature_invalid')
  })

  it('refuses an assertion signed by another key, even with that key in its KeyInfo', async () => {
    expect(await refusal(answer({ key: OTHER_KEY }))).toBe('signature_invalid')
  })

  it('refuses an unsigned answer however the signatures are configured', async () => {
    expect(await refusal(answer({ sign: {} }))).toBe('signature_invalid')
    const lenient = { ...connection, config: { ...connection.config, wantAssertionsSigned: false } }
    expect(await refusal(answer({ sign: {} }), lenient)).toBe('signature_invalid')
  })

  it('refuses signature wrapping: a forged assertion beside or around the signed one', async () => {
    const forge = (doc: XmlNode) => {
      const signed = first(doc, SAML, 'Assertion')
      const forged = signed.cloneNode(true) as XmlNode
      first(forged, SAML, 'AttributeValue').textContent = 'mallory@example.com'
      first(forged, SAML, 'NameID').textContent = 'mallory'
      return { signed, forged }
    }
    // XSW: the forged assertion (its copied signature naming the same ID) where the SP looks, the signed one
    // hidden in the Response's Extensions where the signature check would still find it by ID.
    const wrapped = edited(answer(), (doc) => {
      const { signed, forged } = forge(doc)
      const extensions = doc.createElementNS(SAMLP, 'samlp:Extensions')
      doc.documentElement.replaceChild(forged, signed)
      extensions.appendChild(signed)
      doc.documentElement.insertBefore(extensions, first(doc, SAMLP, 'Status'))
    })
    expect(await refusal(wrapped)).toBe('signature_invalid')
    // The forged one with its signature removed, beside the signed decoy.
    const beside = edited(answer(), (doc) => {
      const { signed, forged } = forge(doc)
      forged.removeChild(first(forged, DSIG, 'Signature'))
      forged.setAttribute('ID', '_forged')
      doc.documentElement.insertBefore(forged, signed)
    })
    expect(await refusal(beside)).toBe('signature_invalid')
    // The signed decoy inside the forged assertion, which carries no signature of its own.
    const inside = edited(answer(), (doc) => {
      const { signed, forged } = forge(doc)
      forged.removeChild(first(forged, DSIG, 'Signature'))
      forged.setAttribute('ID', '_forged')
      doc.documentElement.replaceChild(forged, signed)
      first(forged, SAML, 'Subject').appendChild(signed)
    })
    expect(await refusal(inside)).toBe('signature_invalid')
  })

  it('refuses a signed Response wrapped inside a forged one (assertions unsigned, the Response signature counts)', async () => {
    const lenient = { ...connection, config: { ...connection.config, wantAssertionsSigned: false } }
    const wrapped = edited(answer({ sign: { response: true } }), (doc) => {
      const original = doc.documentElement
      const outer = original.cloneNode(true) as XmlNode
      outer.removeChild(first(outer, DSIG, 'Signature'))
      outer.setAttribute('ID', '_outer')
      first(outer, SAML, 'AttributeValue').textContent = 'mallory@example.com'
      // The signed original hidden in the forged Response's Extensions, its signature still intact.
      const extensions = doc.createElementNS(SAMLP, 'samlp:Extensions')
      doc.replaceChild(outer, original)
      extensions.appendChild(original)
      outer.insertBefore(extensions, first(outer, SAMLP, 'Status'))
    })
    expect(await refusal(wrapped, lenient)).toBe('signature_invalid')
  })

  it('accepts a Response and assertion both signed when both must be, and refuses a change inside them', async () => {
    const bothSigned = { ...connection, config: { ...connection.config, wantResponseSigned: true } }
    const callback = answer({ sign: { assertion: true, response: true } })
    expect((await protocol.finish(bothSigned, callback)).email).toBe('alice@example.com')
    const forged = edited(answer({ sign: { assertion: true, response: true } }), (doc) => {
      for (const value of Array.from<XmlNode>(doc.getElementsByTagNameNS(SAML, 'AttributeValue')))
        if (value.textContent === 'Alice@Example.com') value.textContent = 'mallory@example.com'
    })
    expect(await refusal(forged, bothSigned)).toBe('signature_invalid')
  })

  it('refuses an expired assertion by the server clock, and accepts within the clock skew', async () => {
    const issued = now
    const late = answer({ now: issued - 5 * 60_000 - SAML_CLOCK_SKEW_MS - 1_000 })
    expect(await refusal(late)).toBe('expired')
    const skewed = answer({ now: issued - 5 * 60_000 - SAML_CLOCK_SKEW_MS + 5_000 })
    expect((await protocol.finish(connection, skewed)).email).toBe('alice@example.com')
    const early = answer({ now: issued + SAML_CLOCK_SKEW_MS + 60_000 })
    expect(await refusal(early)).toBe('not_yet_valid')
  })

  it('refuses an assertion for another audience, recipient or issuer', async () => {
    expect(await refusal(answer({ audience: 'https://other-sp.example/metadata' }))).toBe('audience_mismatch')
    const elsewhere = spOf('conn-2').acsUrl
    expect(await refusal(answer({ acsUrl: elsewhere }))).toBe('destination_mismatch')
    // Destination is optional (and unsigned here): the signed confirmation's Recipient still says where to.
    const undirected = edited(answer({ acsUrl: elsewhere }), (doc) =>
      doc.documentElement.removeAttribute('Destination'),
    )
    expect(await refusal(undirected)).toBe('recipient_mismatch')
    expect(await refusal(answer({ issuer: 'https://evil-idp.example' }))).toBe('issuer_mismatch')
    // This connection's answer, posted to another connection's ACS.
    const misposted = { ...answer(), currentUrl: new URL(elsewhere) }
    expect(await refusal(misposted)).toBe('connection_mismatch')
  })

  it('refuses an answer to another sign-in request (InResponseTo), in the Response and in the assertion', async () => {
    expect(await refusal(answer({}, '_someone-elses-request'))).toBe('in_response_to_mismatch')
    // The unsigned Response made to agree: the signed confirmation still names the other request.
    const callback = answer({}, '_mine')
    const agreed = edited(callback, (doc) => doc.documentElement.setAttribute('InResponseTo', '_mine'))
    expect(await refusal(agreed)).toBe('in_response_to_mismatch')
  })

  it('accepts an assertion once: a replay is refused', async () => {
    const callback = answer()
    expect((await protocol.finish(connection, callback)).subject).toBe('idp-user-17')
    expect(await refusal(callback)).toBe('replayed')
    // Another instance (its own adapter, the same database) refuses it as well: nothing is kept in memory.
    const elsewhere = createSamlProtocol({ clock, allowPrivate: true, db: store.db })
    await expect(elsewhere.finish(connection, callback)).rejects.toMatchObject({
      details: { reason: 'replayed' },
    })
  })

  it('reads the whole NameID, whatever comment splits it, and refuses transient ones', async () => {
    const split = edited(answer({ person: { ...alice, nameId: 'victim@example.com.evil.test' } }), (doc) => {
      const nameId = first(doc, SAML, 'NameID')
      nameId.textContent = 'victim@example.com'
      nameId.appendChild(doc.createComment('x'))
      nameId.appendChild(doc.createTextNode('.evil.test'))
    })
    // Exclusive c14n drops comments, so the signature still holds: the value read must be the whole text.
    expect((await protocol.finish(connection, split)).subject).toBe('victim@example.com.evil.test')
    const transient = { ...alice, nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient' }
    expect(await refusal(answer({ person: transient }))).toBe('transient_name_id')
  })

  it('refuses SHA-1 signatures', async () => {
    const sha1 = edited(answer({ sign: {} }), (doc) => {
      const assertion = first(doc, SAML, 'Assertion')
      const xml = signXml(
        new xmldom.XMLSerializer().serializeToString(assertion),
        "//*[local-name(.)='Assertion']",
        "//*[local-name(.)='Assertion']/*[local-name(.)='Issuer']",
        IDP_KEY,
        'sha1',
      )
      doc.documentElement.replaceChild(
        new xmldom.DOMParser().parseFromString(xml, 'text/xml').documentElement,
        assertion,
      )
    })
    expect(await refusal(sha1)).toBe('weak_algorithm')
  })

  it('tests a connection: certificates still valid by the server clock, the SSO URL answering', async () => {
    expect(await protocol.test(connection)).toEqual({ ok: true })
    const down = { ...connection, config: { ...connection.config, ssoUrl: 'http://127.0.0.1:9/sso' } }
    expect(await protocol.test(down)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/can't be reached/),
    })
    const saved = now
    now = Date.parse('2200-01-01T00:00:00Z')
    try {
      expect(await protocol.test(connection)).toMatchObject({
        ok: false,
        problem: expect.stringMatching(/expired/),
      })
    } finally {
      now = saved
    }
  })

  it('refuses config that is not a SAML IdP', () => {
    const invalid = (input: unknown) => {
      try {
        protocol.parseConfig(input)
      } catch (error) {
        if (isOrgkitError(error, 'VALIDATION_FAILED')) return error.details.field
        throw error
      }
      return 'accepted'
    }
    const base = { idpEntityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.certificate] }
    expect(invalid(base)).toBe('accepted')
    expect(invalid({ ...base, certificates: ['not a certificate'] })).toBe('config.certificates.0')
    expect(invalid({ ...base, certificates: [] })).toBe('config.certificates')
    expect(invalid({ metadataXml: '<nothing/>' })).toBe('config.metadataXml')
    expect(invalid({ ...base, extra: 1 })).toBe('config')
    const strict = createSamlProtocol({ clock, allowPrivate: false, db: store.db })
    expect(() => strict.parseConfig(base)).toThrow(/https/)
  })
})

const codeOf = async (response: Response) => ((await response.json()) as { code?: string }).code

/**
 * A browser, as far as SSO needs one: cookies by path, no redirects followed, forms posted. `crossSite`
 * posts leave the cookies behind, as SameSite=Lax has a browser do for a form another site posts.
 */
function browser(base: string) {
  const jar = new Map<string, { value: string; path: string }>()
  async function send(url: string, init: RequestInit & { crossSite?: boolean } = {}) {
    const target = new URL(url, base)
    const cookies = [...jar]
      .filter(([, c]) => target.origin === new URL(base).origin && target.pathname.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
    const response = await fetch(target, {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string>),
        ...(!init.crossSite && cookies.length && { cookie: cookies.join('; ') }),
      },
    })
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim())
      const [name, value] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)]
      const path = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/'
      if (value && !/max-age=0/i.test(line)) jar.set(name, { value, path })
      else jar.delete(name)
    }
    return response
  }
  return {
    jar,
    send,
    json: async (method: string, path: string, body?: unknown) => {
      const response = await send(path, {
        method,
        headers: { 'content-type': 'application/json', 'x-orgkit-csrf': jar.get('orgkit_csrf')?.value ?? '' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      })
      return { status: response.status, body: (await response.json()) as Reply['body'] }
    },
    /** Posts the page's first form as the browser would (its action, its hidden fields). */
    submit: async (html: string, pageUrl: string, options: { crossSite?: boolean } = {}) => {
      const action = /<form[^>]*action="([^"]*)"/
        .exec(html)![1]!
        .replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c)))
      const fields = new URLSearchParams()
      for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
        fields.set(
          name!,
          value!.replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c))),
        )
      return send(new URL(action, pageUrl).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: fields.toString(),
        crossSite: options.crossSite ?? false,
      })
    },
  }
}

describe.each(DATABASES)('SAML sign-in through the API (%s)', (db) => {
  let s: TestServer
  let idp: SamlIdp
  let olga: Person
  let org: string
  let team: string
  let connectionId: string
  const bob = (groups: string[]) => ({
    nameId: 'okta-00bob',
    attributes: { email: 'bob@acme.test', name: 'Bob Builder', groups },
  })

  beforeAll(async () => {
    s = await startTestServer(db, { model: presets.teams! })
    idp = await startSamlIdp()
    olga = await signUp(s, 'Olga')
    org = (await olga.post('/v1/orgs', { name: 'acme' })).body.id
    // Seed 003: a team whose Read / Write / Admin level the IdP group will set.
    team = (await olga.post(`/v1/orgs/${org}/groups`, { name: 'Engineering', role: 'read' })).body.id
    expect(
      (await olga.post(`/v1/orgs/${org}/bindings`, { principal: { type: 'group', id: team }, role: 'team' }))
        .status,
    ).toBe(201)
    // The org's verified domain (DNS verification is the domains suite's): only its people sign in here.
    await s.store.db.transaction().execute(async (tx) => {
      const claim = await orgDomains.insertClaim(
        tx,
        { id: randomUUID(), orgId: org, domain: 'acme.test', token: 'test', createdBy: null },
        new Date(),
      )
      await orgDomains.markVerified(tx, org, claim.id, new Date())
    })
    const made = await olga.post(`/v1/orgs/${org}/sso-connections`, {
      kind: 'saml',
      name: 'Acme IdP',
      // The IdP's metadata as its admin downloads it (its entity ID is that URL).
      config: { metadataXml: await (await fetch(idp.entityId)).text() },
      mappings: [{ idpGroup: 'engineering', groupId: team, level: 'write' }],
    })
    expect(made.status).toBe(201)
    connectionId = made.body.id
    const tested = await olga.post(`/v1/orgs/${org}/sso-connections/${connectionId}/test`)
    expect(tested.body).toMatchObject({ ok: true, problem: null })
    expect(
      (await olga.patch(`/v1/orgs/${org}/sso-connections/${connectionId}`, { enabled: true })).status,
    ).toBe(200)
  })
  afterAll(async () => {
    await idp?.close()
    await s?.stop()
  })

  /** SP-initiated: the email routes to the org's IdP, whose page posts the Response back (cross-site). */
  async function signIn(person: SamlPerson, email = 'bob@acme.test') {
    const b = browser(s.url)
    const started = await b.json('POST', '/v1/auth/sso/start', { email, returnTo: '/orgs' })
    expect(started.body.connectionId).toBe(connectionId)
    idp.person = person
    const idpPage = await fetch(started.body.redirectUrl)
    expect(idpPage.status).toBe(200)
    const relay = await b.submit(await idpPage.text(), started.body.redirectUrl, { crossSite: true })
    return { b, relay, idpPage: idp.lastRequest! }
  }

  it('signs a new person of the verified domain in: an account, the default role, the mapped team at its level', async () => {
    const { b, relay, idpPage } = await signIn(bob(['engineering', 'unmapped']))
    expect(idpPage.acsUrl).toBe(`${s.url}/v1/auth/sso/saml/${connectionId}/acs`)
    // The IdP's cross-site post carried no cookie: the page posts it again from this site, with it.
    expect(relay.status).toBe(200)
    expect(relay.headers.get('content-security-policy')).toMatch(/form-action 'self'/)
    const done = await b.submit(await relay.text(), relay.url || `${s.url}/`)
    expect([done.status, done.headers.get('location')]).toEqual([303, '/orgs'])
    expect(b.jar.has('orgkit_session')).toBe(true)

    const me = await b.json('GET', '/v1/me')
    expect(me.body).toMatchObject({ email: 'bob@acme.test', name: 'Bob Builder' })
    const members = (await olga.get(`/v1/orgs/${org}/members`)).body.items
    expect(members.find((m: { userId: string }) => m.userId === me.body.id)).toMatchObject({
      roles: [presets.teams!.org.defaultRole],
    })
    const inTeam = (await olga.get(`/v1/orgs/${org}/groups/${team}`)).body.members
    expect(inTeam.find((m: { userId: string }) => m.userId === me.body.id)).toMatchObject({
      memberRole: 'write',
    })

    // The IdP drops the group: at the next sign-in, the same account is out of the team.
    const again = await signIn(bob([]))
    const second = await again.b.submit(await again.relay.text(), `${s.url}/`)
    expect(second.status).toBe(303)
    expect((await again.b.json('GET', '/v1/me')).body.id).toBe(me.body.id)
    const after = (await olga.get(`/v1/orgs/${org}/groups/${team}`)).body.members
    expect(after.some((m: { userId: string }) => m.userId === me.body.id)).toBe(false)
  })

  it('links an existing account of the verified domain, and signs in no one of another domain', async () => {
    const carol = await signUp(s, 'Carol', 'carol@acme.test')
    const { b, relay } = await signIn(
      { nameId: 'okta-carol', attributes: { email: 'Carol@acme.test' } },
      'carol@acme.test',
    )
    expect((await b.submit(await relay.text(), `${s.url}/`)).status).toBe(303)
    expect((await b.json('GET', '/v1/me')).body.id).toBe(carol.id)
    // The IdP asserts an address outside the org's verified domains: an org's IdP can't reach other people.
    const eve = await signIn({ nameId: 'okta-eve', attributes: { email: 'olga@example.com' } })
    const refused = await eve.b.submit(await eve.relay.text(), `${s.url}/`)
    expect(refused.headers.get('location')).toBe(
      '/login?ssoError=SSO_FAILED&reason=email_domain_not_verified',
    )
    expect(eve.b.jar.has('orgkit_session')).toBe(false)
  })

  it('finishes only in the browser that started: a Response pushed into another browser is refused', async () => {
    // Mallory starts a sign-in as himself and has the victim's browser post his Response (login CSRF).
    const mallory = await signIn(
      { ...bob([]), nameId: 'okta-mallory', attributes: { email: 'mallory@acme.test' } },
      'mallory@acme.test',
    )
    const victim = browser(s.url)
    await victim.json('POST', '/v1/auth/sso/start', { email: 'bob@acme.test' })
    const pushed = await victim.submit(await mallory.relay.text(), `${s.url}/`)
    expect(pushed.headers.get('location')).toBe('/login?ssoError=SSO_FAILED&reason=browser_mismatch')
    expect(victim.jar.has('orgkit_session')).toBe(false)
    // The relay page can't be skipped by claiming it was used: a cross-site post never has the cookie.
    const forged = await signIn(bob([]))
    const skipped = await forged.b.submit(await forged.relay.text(), `${s.url}/`, { crossSite: true })
    expect(skipped.headers.get('location')).toBe('/login?ssoError=SSO_FAILED&reason=browser_mismatch')
  })

  it('takes a Response once: posted again, it is refused', async () => {
    const { b, relay } = await signIn(bob([]))
    const page = await relay.text()
    expect((await b.submit(page, `${s.url}/`)).status).toBe(303)
    const replayed = await b.submit(page, `${s.url}/`)
    expect(replayed.headers.get('location')).toMatch(/^\/login\?ssoError=SSO_FAILED&reason=/)
  })

  it('publishes the SP metadata the IdP is given: entity ID, ACS by HTTP-POST, signed assertions wanted', async () => {
    const response = await fetch(`${s.url}/v1/auth/sso/saml/${connectionId}/metadata`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/samlmetadata\+xml/)
    const doc = new xmldom.DOMParser().parseFromString(await response.text(), 'text/xml')
    const base = `${s.url}/v1/auth/sso/saml/${connectionId}`
    expect(doc.documentElement.getAttribute('entityID')).toBe(`${base}/metadata`)
    const acs = doc.getElementsByTagNameNS(
      'urn:oasis:names:tc:SAML:2.0:metadata',
      'AssertionConsumerService',
    )[0]
    expect([acs.getAttribute('Binding'), acs.getAttribute('Location')]).toEqual([
      'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
      `${base}/acs`,
    ])
    const sp = doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:metadata', 'SPSSODescriptor')[0]
    expect(sp.getAttribute('WantAssertionsSigned')).toBe('true')
    const unknown = await fetch(`${s.url}/v1/auth/sso/saml/${randomUUID()}/metadata`)
    expect([unknown.status, await codeOf(unknown)]).toEqual([404, 'SSO_CONNECTION_NOT_FOUND'])
  })

  it('takes only the form the HTTP-POST binding posts at the ACS', async () => {
    const acs = `${s.url}/v1/auth/sso/saml/${connectionId}/acs`
    const asJson = await fetch(acs, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ SAMLResponse: 'x', RelayState: 'y' }),
    })
    expect([asJson.status, await codeOf(asJson)]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE'])
    const incomplete = await fetch(acs, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'RelayState=y',
    })
    expect([incomplete.status, await codeOf(incomplete)]).toEqual([400, 'VALIDATION_FAILED'])
  })
})

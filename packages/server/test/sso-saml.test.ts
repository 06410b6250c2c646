import { inflateRawSync } from 'node:zlib'
import { isOrgkitError } from '@orgkit/core'
import { migrate, openStore, type Store } from '@orgkit/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SsoCallback, SsoConnectionRef } from '../src/security/sso/protocol.ts'
import {
  createSamlProtocol,
  SAML_CLOCK_SKEW_MS,
  type SamlConfig,
  samlServiceProvider,
} from '../src/security/sso/saml.ts'
import {
  IDP_KEY,
  OTHER_KEY,
  type ResponseOptions,
  type SamlIdp,
  signXml,
  startSamlIdp,
  type XmlNode,
  xmldom,
} from './support/saml-idp.ts'

/**
 * The SAML adapter against a real IdP's signed answers (issue 21.1): what it accepts, and each way an
 * answer is refused — every refusal asserted by its reason, so a test can't pass on another check's error.
 */
const SAMLP = 'urn:oasis:names:tc:SAML:2.0:protocol'
const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion'
const DSIG = 'http://www.w3.org/2000/09/xmldsig#'

describe('SAML adapter', () => {
  let store: Store
  let idp: SamlIdp
  const now = Date.now()
  const clock = () => now
  const sp = samlServiceProvider('http://orgkit.test', 'conn-1')
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

  beforeAll(async () => {
    store = await openStore({ dataDir: 'memory://' })
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
      emailVerified: false,
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
    const elsewhere = samlServiceProvider('http://orgkit.test', 'conn-2').acsUrl
    expect(await refusal(answer({ acsUrl: elsewhere }))).toBe('destination_mismatch')
    // Destination is optional (and unsigned here): the signed confirmation's Recipient still says where to.
    const undirected = edited(answer({ acsUrl: elsewhere }), (doc) =>
      doc.documentElement.removeAttribute('Destination'),
    )
    expect(await refusal(undirected)).toBe('recipient_mismatch')
    expect(await refusal(answer({ issuer: 'https://evil-idp.example' }))).toBe('issuer_mismatch')
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

import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { inflateRawSync } from 'node:zlib'
import { SignedXml } from 'xml-crypto'
import { closeWhenAnswered } from '../../src/http-close.ts'

/**
 * A SAML 2.0 identity provider for tests: an HTTP server on loopback that takes an AuthnRequest by the
 * HTTP-Redirect binding and answers, as a real IdP does, with a page whose form auto-posts a Response to the
 * request's ACS URL — the Assertion really signed (RSA-SHA256, exclusive c14n) with xml-crypto, by a key
 * whose self-signed certificate is in test/fixtures/saml (made once with openssl; `other` is a stranger's).
 * `response()` makes the same Response without a browser, for the adapter's own tests and their attacks.
 */
const FIXTURES = join(import.meta.dirname, '../fixtures/saml')
export const IDP_KEY = {
  key: readFileSync(join(FIXTURES, 'idp.key'), 'utf8'),
  cert: readFileSync(join(FIXTURES, 'idp.crt'), 'utf8'),
}
export const OTHER_KEY = {
  key: readFileSync(join(FIXTURES, 'other.key'), 'utf8'),
  cert: readFileSync(join(FIXTURES, 'other.crt'), 'utf8'),
}

/**
 * The DOM, for tests that read and rearrange SAML documents. Untyped on purpose: @xmldom/xmldom's types pull
 * TypeScript's whole DOM library into the program (see security/sso/saml.ts).
 */
// biome-ignore lint/suspicious/noExplicitAny: tests move DOM nodes around freely
export type XmlNode = any
export const xmldom = createRequire(import.meta.url)('@xmldom/xmldom') as {
  DOMParser: new () => { parseFromString(xml: string, mimeType: string): XmlNode }
  XMLSerializer: new () => { serializeToString(node: XmlNode): string }
}

const SAMLP = 'urn:oasis:names:tc:SAML:2.0:protocol'
const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion'
const ASSERTION = "//*[local-name(.)='Assertion']"

export interface SamlPerson {
  nameId: string
  nameIdFormat?: string
  attributes: Record<string, string | string[]>
}

export interface ResponseOptions {
  requestId: string
  acsUrl: string
  /** The SP's entity ID, named in the AudienceRestriction. */
  audience: string
  person: SamlPerson
  /** What is signed: the Assertion (default), the Response, both, or nothing. */
  sign?: { assertion?: boolean; response?: boolean }
  /** Signs with this key instead of the IdP's. */
  key?: { key: string; cert: string }
  issuer?: string
  /** When the IdP thinks it is (defaults to the IdP's clock). */
  now?: number
  lifetimeMs?: number
}

export interface SamlIdp {
  url: string
  entityId: string
  ssoUrl: string
  certificate: string
  metadataXml: string
  /** Who signs in at the next AuthnRequest (the IdP's login screen, decided by the test). */
  person: SamlPerson
  /** The last AuthnRequest received, as the IdP read it. */
  lastRequest: { id: string; acsUrl: string; issuer: string; destination: string; relayState: string } | null
  /** A base64 SAMLResponse, as the form would post it. */
  response(options: ResponseOptions): string
  close(): Promise<void>
}

export async function startSamlIdp(options: { clock?: () => number } = {}): Promise<SamlIdp> {
  const clock = options.clock ?? Date.now
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', idp.url)
    if (url.pathname === '/metadata') {
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(idp.metadataXml)
      return
    }
    if (url.pathname !== '/sso') {
      res.writeHead(404).end()
      return
    }
    try {
      const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest') ?? '', 'base64')).toString()
      const request = new xmldom.DOMParser().parseFromString(xml, 'text/xml').documentElement
      if (request.namespaceURI !== SAMLP || request.localName !== 'AuthnRequest')
        throw new Error('not an AuthnRequest')
      const seen = {
        id: request.getAttribute('ID') ?? '',
        acsUrl: request.getAttribute('AssertionConsumerServiceURL') ?? '',
        destination: request.getAttribute('Destination') ?? '',
        issuer: request.getElementsByTagNameNS(SAML, 'Issuer')[0]?.textContent ?? '',
        relayState: url.searchParams.get('RelayState') ?? '',
      }
      idp.lastRequest = seen
      const response = idp.response({
        requestId: seen.id,
        acsUrl: seen.acsUrl,
        audience: seen.issuer,
        person: idp.person,
      })
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(
          `<!doctype html><html><body onload="document.forms[0].submit()">` +
            `<form method="post" action="${escapeXml(seen.acsUrl)}">` +
            `<input type="hidden" name="SAMLResponse" value="${escapeXml(response)}">` +
            `<input type="hidden" name="RelayState" value="${escapeXml(seen.relayState)}">` +
            `<noscript><button type="submit">Continue</button></noscript></form></body></html>`,
        )
    } catch (error) {
      res.writeHead(400).end(String(error))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const entityId = `${base}/metadata`
  const certificate = IDP_KEY.cert
  const idp: SamlIdp = {
    url: base,
    entityId,
    ssoUrl: `${base}/sso`,
    certificate,
    metadataXml: idpMetadata(entityId, `${base}/sso`, certificate),
    person: { nameId: 'nobody@example.com', attributes: {} },
    lastRequest: null,
    response: (o) => Buffer.from(signedResponse({ issuer: entityId, now: clock(), ...o })).toString('base64'),
    close: closeWhenAnswered(server, 1000),
  }
  return idp
}

/** A Response as IdPs send it: Status Success, one Assertion with a bearer confirmation, conditions, attributes. */
export function signedResponse(o: ResponseOptions & { issuer: string; now: number }): string {
  const at = (ms: number) => new Date(ms).toISOString()
  const until = at(o.now + (o.lifetimeMs ?? 5 * 60_000))
  const assertionId = `_a${randomBytes(16).toString('hex')}`
  const attributes = Object.entries(o.person.attributes)
    .map(
      ([name, value]) =>
        `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${[
          value,
        ]
          .flat()
          .map((v) => `<saml:AttributeValue>${escapeXml(v)}</saml:AttributeValue>`)
          .join('')}</saml:Attribute>`,
    )
    .join('')
  const format = o.person.nameIdFormat ?? 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'
  const assertion =
    `<saml:Assertion xmlns:saml="${SAML}" ID="${assertionId}" Version="2.0" IssueInstant="${at(o.now)}">` +
    `<saml:Issuer>${escapeXml(o.issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="${format}">${escapeXml(o.person.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
    `<saml:SubjectConfirmationData InResponseTo="${escapeXml(o.requestId)}" Recipient="${escapeXml(o.acsUrl)}" NotOnOrAfter="${until}"/>` +
    `</saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${at(o.now - 30_000)}" NotOnOrAfter="${until}">` +
    `<saml:AudienceRestriction><saml:Audience>${escapeXml(o.audience)}</saml:Audience></saml:AudienceRestriction>` +
    `</saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${at(o.now)}" SessionIndex="${assertionId}">` +
    `<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>` +
    `</saml:AuthnStatement>` +
    (attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : '') +
    `</saml:Assertion>`
  const sign = o.sign ?? { assertion: true }
  const key = o.key ?? IDP_KEY
  const signedAssertion = sign.assertion
    ? signXml(assertion, ASSERTION, `${ASSERTION}/*[local-name(.)='Issuer']`, key)
    : assertion
  const response =
    `<samlp:Response xmlns:samlp="${SAMLP}" xmlns:saml="${SAML}" ID="_r${randomBytes(16).toString('hex')}" Version="2.0" ` +
    `IssueInstant="${at(o.now)}" Destination="${escapeXml(o.acsUrl)}" InResponseTo="${escapeXml(o.requestId)}">` +
    `<saml:Issuer>${escapeXml(o.issuer)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    signedAssertion +
    `</samlp:Response>`
  const RESPONSE = "/*[local-name(.)='Response']"
  return sign.response ? signXml(response, RESPONSE, `${RESPONSE}/*[local-name(.)='Issuer']`, key) : response
}

/** An enveloped signature of the element at `reference`, placed after `after` (SAML puts it after Issuer). */
export function signXml(
  xml: string,
  reference: string,
  after: string,
  key: { key: string; cert: string },
  hash: 'sha256' | 'sha1' = 'sha256',
): string {
  const signer = new SignedXml({
    privateKey: key.key,
    publicCert: key.cert,
    signatureAlgorithm:
      hash === 'sha1'
        ? 'http://www.w3.org/2000/09/xmldsig#rsa-sha1'
        : 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  })
  signer.addReference({
    xpath: reference,
    transforms: [
      'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    ],
    digestAlgorithm:
      hash === 'sha1' ? 'http://www.w3.org/2000/09/xmldsig#sha1' : 'http://www.w3.org/2001/04/xmlenc#sha256',
  })
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: after, action: 'after' } })
  return signer.getSignedXml()
}

function idpMetadata(entityId: string, ssoUrl: string, cert: string): string {
  const der = cert.replace(/-----[A-Z ]+-----|\s+/g, '')
  return (
    `<?xml version="1.0"?>` +
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${escapeXml(entityId)}">` +
    `<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="${SAMLP}">` +
    `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">` +
    `<ds:X509Data><ds:X509Certificate>${der}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
    `<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${escapeXml(ssoUrl)}/post"/>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeXml(ssoUrl)}"/>` +
    `</md:IDPSSODescriptor></md:EntityDescriptor>`
  )
}

function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

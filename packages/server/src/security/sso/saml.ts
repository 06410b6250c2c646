import { randomBytes, X509Certificate } from 'node:crypto'
import { z } from '@hono/zod-openapi'
import type { SAML } from '@node-saml/node-saml'
import { OrgkitError } from '@orgkit/core'
import { samlAssertions } from '@orgkit/store'
import { assertReceiver, lazyReceiverAgent, undici } from '../../webhooks/ssrf.ts'
import type { SsoProfile, SsoProtocol } from './protocol.ts'
import type { SsoDeps } from './registry.ts'
import { child, children, elements, NS, parseXml, type XmlElement } from './saml-xml.ts'

/**
 * SAML 2.0 Web Browser SSO as a service provider (@node-saml/node-saml 5): an SP-initiated AuthnRequest
 * over HTTP-Redirect, the Response over HTTP-POST. The library verifies the XML signatures (one enveloped
 * signature per element, one reference, the referenced node its parent, exactly one assertion) and gives
 * back only what the signature covered; everything Orgkit decides on is read from that signed assertion.
 * What the library leaves out or does with the wall clock is checked here against the server's clock:
 * issuer, NotBefore / NotOnOrAfter, the bearer SubjectConfirmation (Recipient, InResponseTo,
 * NotOnOrAfter), the Response's Destination, and replay — an assertion id is accepted once, across
 * instances, through the database.
 */
export const SamlConfigSchema = z
  .object({
    /** The IdP's entityID: the assertion's Issuer must be exactly this. */
    idpEntityId: z.string().min(1).max(1024),
    /** The IdP's SingleSignOnService URL for the HTTP-Redirect binding. */
    ssoUrl: z.string().url().max(2000),
    /** The IdP's signing certificates (PEM or base64 DER): more than one while the IdP rolls its key. */
    certificates: z.array(z.string().min(1).max(20_000)).min(1).max(5),
    emailAttribute: z.string().min(1).max(500).default('email'),
    nameAttribute: z.string().min(1).max(500).default('name'),
    /** The attribute listing the person's groups (seed 003's team mapping). */
    groupsAttribute: z.string().min(1).max(500).default('groups'),
    /** The Assertion itself must carry a valid signature (a signed Response alone is not enough). */
    wantAssertionsSigned: z.boolean().default(true),
    /** The Response must be signed too. With both off, one of the two must still be validly signed. */
    wantResponseSigned: z.boolean().default(false),
  })
  .strict()
export type SamlConfig = z.infer<typeof SamlConfigSchema>

/** The IdP's own clock may differ from ours by this much either way. */
export const SAML_CLOCK_SKEW_MS = 2 * 60_000
const MAX_RESPONSE_BYTES = 512 * 1024
/** SHA-1 signatures and digests can be forged with a chosen prefix: refused, whatever the IdP sends. */
const ACCEPTED_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmlenc#sha512',
])
const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect'
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer'
const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient'
const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'

/**
 * The SP's entity ID (the audience every assertion must name) is its metadata's URL, beside the ACS URL
 * (services/sso.ts: ssoUrls), so that it resolves to that metadata.
 */
function entityIdOf(acsUrl: string): string {
  return acsUrl.replace(/\/acs$/, '/metadata')
}

export function createSamlProtocol(deps: SsoDeps): SsoProtocol<SamlConfig> {
  // "Test connection" reaches an admin-given URL: off private networks unless they are allowed (ssrf.ts).
  const agent = deps.allowPrivate ? undefined : lazyReceiverAgent(false)
  return {
    kind: 'saml',
    secretFields: [],

    parseConfig(input) {
      return parseSamlConfig(input, deps.allowPrivate)
    },

    async test(connection) {
      const now = deps.clock()
      for (const pem of connection.config.certificates) {
        const cert = new X509Certificate(pem)
        if (Date.parse(cert.validTo) <= now)
          return { ok: false, problem: `the IdP certificate ${cert.subject} expired on ${cert.validTo}` }
      }
      // The browser, not the server, goes to the SSO URL; reaching it here only tells an admin a typo early.
      try {
        const url = await assertReceiver(connection.config.ssoUrl, deps.allowPrivate)
        const { fetch: undiciFetch } = await undici()
        const response = await undiciFetch(url, {
          redirect: 'manual',
          signal: AbortSignal.timeout(5000),
          ...(agent && { dispatcher: await agent.get() }),
        })
        await response.body?.cancel()
        if (response.status >= 500)
          return { ok: false, problem: `the IdP's SSO URL answered ${response.status}` }
      } catch (error) {
        return { ok: false, problem: `the IdP's SSO URL can't be reached: ${describe(error)}` }
      }
      return { ok: true }
    },

    async start(connection, { callbackUrl, state }) {
      const requestId = `_${randomBytes(20).toString('hex')}`
      const saml = await samlFor(connection.config, callbackUrl, () => requestId)
      const redirectUrl = await saml.getAuthorizeUrlAsync(state, undefined, {})
      return { redirectUrl, pending: { requestId } }
    },

    async finish(connection, callback) {
      const acsUrl = callback.currentUrl.origin + callback.currentUrl.pathname
      // The ACS named in the URL is this connection's: an answer posted to another connection's ACS is refused.
      if (!acsUrl.endsWith(`/saml/${encodeURIComponent(connection.id)}/acs`))
        fail('connection_mismatch', 'this answer was posted to another connection')
      const requestId = callback.pending.requestId
      if (!requestId) fail('no_pending_request', 'no sign-in was started for this answer')
      const encoded = callback.params.SAMLResponse
      if (!encoded) fail('missing_response', 'the IdP posted no SAMLResponse')
      if (encoded.length > (MAX_RESPONSE_BYTES * 4) / 3)
        fail('response_too_large', 'the SAMLResponse is too large')
      const xml = Buffer.from(encoded, 'base64').toString('utf8')
      const doc = parseXml(xml)
      const response = doc?.documentElement
      if (!doc || !response || response.namespaceURI !== NS.protocol || response.localName !== 'Response')
        fail('malformed_response', 'the SAMLResponse is not a SAML 2.0 Response')
      for (const method of elements(doc, NS.dsig, ['SignatureMethod', 'DigestMethod'])) {
        if (!ACCEPTED_ALGORITHMS.has(method.getAttribute('Algorithm') ?? ''))
          fail('weak_algorithm', `signature algorithm refused: ${method.getAttribute('Algorithm')}`)
      }
      // Unsigned unless the Response is signed, but a Response meant for another SP or request is refused.
      const destination = response.getAttribute('Destination')
      if (destination && destination !== acsUrl)
        fail('destination_mismatch', 'the Response is addressed to another URL')
      const inResponseTo = response.getAttribute('InResponseTo')
      if (inResponseTo !== requestId)
        fail('in_response_to_mismatch', 'the Response answers another sign-in request')

      const saml = await samlFor(connection.config, acsUrl, () => requestId)
      let signed: string
      try {
        const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: encoded })
        const assertionXml = profile?.getAssertionXml?.()
        if (!assertionXml) fail('missing_assertion', 'the Response carries no assertion')
        signed = assertionXml
      } catch (error) {
        if (error instanceof OrgkitError) throw error
        fail(reasonOf(error), `the IdP's answer was refused: ${describe(error)}`)
      }
      // From here on, only what the signature covered.
      const assertion = parseXml(signed)?.documentElement
      if (!assertion || assertion.namespaceURI !== NS.assertion || assertion.localName !== 'Assertion')
        fail('malformed_response', 'the signed content is not an assertion')
      const checked = checkAssertion(assertion, {
        now: deps.clock(),
        idpEntityId: connection.config.idpEntityId,
        audience: entityIdOf(acsUrl),
        acsUrl,
        requestId,
      })
      const profile = profileOf(assertion, connection.config)
      // Spent last: only an assertion that passed every check uses up its id.
      const spent = await samlAssertions.spendAssertion(deps.db, {
        connectionId: connection.id,
        assertionId: checked.id,
        expiresAt: checked.expiresAt,
        now: new Date(deps.clock()),
      })
      if (!spent) fail('replayed', 'this assertion was already used')
      return profile
    },
  }
}

/** The SP metadata an admin gives their IdP: entity ID, ACS (HTTP-POST), signed assertions wanted. */
export async function samlMetadata(
  config: SamlConfig,
  sp: { entityId: string; acsUrl: string },
): Promise<string> {
  return (await samlFor(config, sp.acsUrl, () => '_')).generateServiceProviderMetadata(null, null)
}

/** The library's service provider for one connection; the library is loaded on first use, not at start. */
async function samlFor(config: SamlConfig, acsUrl: string, requestId: () => string): Promise<SAML> {
  const { SAML, ValidateInResponseTo } = await import('@node-saml/node-saml')
  return new SAML({
    issuer: entityIdOf(acsUrl),
    audience: entityIdOf(acsUrl),
    callbackUrl: acsUrl,
    entryPoint: config.ssoUrl,
    idpCert: config.certificates,
    idpIssuer: config.idpEntityId,
    wantAssertionsSigned: config.wantAssertionsSigned,
    wantAuthnResponseSigned: config.wantResponseSigned,
    // The IdP picks the NameID format (transient ones are refused in finish); no AuthnContext is asked for.
    identifierFormat: null,
    disableRequestedAuthnContext: true,
    generateUniqueId: requestId,
    // Times and InResponseTo are checked in checkAssertion against ctx.clock and the pending request id:
    // the library reads the wall clock and keeps request ids in one process's memory.
    acceptedClockSkewMs: -1,
    validateInResponseTo: ValidateInResponseTo.never,
  })
}

interface AssertionChecks {
  now: number
  idpEntityId: string
  audience: string
  acsUrl: string
  requestId: string
}

/** SAML 2.0 profiles 4.1.4.2–4.1.4.3 on the signed assertion; the library checked the audience too. */
function checkAssertion(assertion: XmlElement, expected: AssertionChecks): { id: string; expiresAt: Date } {
  const { now } = expected
  const id = assertion.getAttribute('ID') ?? ''
  if (!id || id.length > 256) fail('malformed_response', 'the assertion has no usable ID')
  const issuer = child(assertion, NS.assertion, 'Issuer')?.textContent?.trim()
  if (issuer !== expected.idpEntityId) fail('issuer_mismatch', 'the assertion was issued by another IdP')

  const conditions = children(assertion, NS.assertion, 'Conditions')
  if (conditions.length !== 1) fail('malformed_response', 'the assertion needs one Conditions element')
  const condition = conditions[0]!
  const notBefore = time(condition.getAttribute('NotBefore'))
  const notOnOrAfter = time(condition.getAttribute('NotOnOrAfter'))
  if (notBefore !== null && now + SAML_CLOCK_SKEW_MS < notBefore)
    fail('not_yet_valid', 'the assertion is not valid yet')
  if (notOnOrAfter !== null && now - SAML_CLOCK_SKEW_MS >= notOnOrAfter)
    fail('expired', 'the assertion has expired')
  const audiences = children(condition, NS.assertion, 'AudienceRestriction')
  if (
    audiences.length === 0 ||
    !audiences.every((r) =>
      children(r, NS.assertion, 'Audience').some((a) => a.textContent?.trim() === expected.audience),
    )
  )
    fail('audience_mismatch', 'the assertion is meant for another service provider')

  // A bearer confirmation for this ACS, this request, still valid: the assertion was made for this browser.
  const subject = child(assertion, NS.assertion, 'Subject')
  const confirmations = subject ? children(subject, NS.assertion, 'SubjectConfirmation') : []
  let confirmedUntil: number | null = null
  let reason: [string, string] = [
    'no_bearer_confirmation',
    'the assertion has no bearer subject confirmation',
  ]
  for (const confirmation of confirmations) {
    if (confirmation.getAttribute('Method') !== BEARER) continue
    const data = child(confirmation, NS.assertion, 'SubjectConfirmationData')
    const until = time(data?.getAttribute('NotOnOrAfter') ?? null)
    const from = time(data?.getAttribute('NotBefore') ?? null)
    if (data?.getAttribute('Recipient') !== expected.acsUrl)
      reason = ['recipient_mismatch', 'the assertion was made for another recipient']
    else if (data.getAttribute('InResponseTo') !== expected.requestId)
      reason = ['in_response_to_mismatch', 'the assertion answers another sign-in request']
    else if (until === null || now - SAML_CLOCK_SKEW_MS >= until)
      reason = ['expired', 'the subject confirmation has expired']
    else if (from !== null && now + SAML_CLOCK_SKEW_MS < from)
      reason = ['not_yet_valid', 'the subject confirmation is not valid yet']
    else {
      confirmedUntil = until
      break
    }
  }
  if (confirmedUntil === null) fail(...reason)
  const expiresAt = Math.min(confirmedUntil, notOnOrAfter ?? confirmedUntil) + SAML_CLOCK_SKEW_MS
  return { id, expiresAt: new Date(expiresAt) }
}

function profileOf(assertion: XmlElement, config: SamlConfig): SsoProfile {
  const nameId = child(child(assertion, NS.assertion, 'Subject'), NS.assertion, 'NameID')
  // textContent joins every text node: a comment inside the NameID can't cut the value short.
  const subject = nameId?.textContent?.trim() ?? ''
  const format = nameId?.getAttribute('Format') ?? ''
  if (!subject) fail('no_subject', 'the assertion names no subject (NameID)')
  if (format === TRANSIENT)
    fail('transient_name_id', 'the IdP sent a transient NameID; configure a persistent or email NameID')

  const attributes: Record<string, string | string[]> = {}
  for (const statement of children(assertion, NS.assertion, 'AttributeStatement')) {
    for (const attribute of children(statement, NS.assertion, 'Attribute')) {
      const name = attribute.getAttribute('Name')
      if (!name || name === '__proto__') continue
      const values = children(attribute, NS.assertion, 'AttributeValue').map(
        (v) => v.textContent?.trim() ?? '',
      )
      const before = attributes[name]
      const all = [...(before === undefined ? [] : [before].flat()), ...values]
      attributes[name] = all.length === 1 ? all[0]! : all
    }
  }
  const first = (name: string) => [attributes[name] ?? []].flat()[0]?.trim()
  const email = (first(config.emailAttribute) ?? (format === EMAIL_FORMAT ? subject : '')).toLowerCase()
  if (!/^[^\s@]+@[^\s@]+$/.test(email))
    fail('no_email', `the assertion carries no email (attribute ${config.emailAttribute})`)
  const name = first(config.nameAttribute)
  const groups = [...new Set([attributes[config.groupsAttribute] ?? []].flat().filter(Boolean))]
  const { [config.emailAttribute]: _e, [config.nameAttribute]: _n, ...rest } = attributes
  return {
    subject,
    email,
    // SAML has no "verified" flag: the org's IdP is the directory of record for its people. What makes the
    // address trustworthy is the service's rule that a connection signs in, links or creates accounts only
    // for its own org's DNS-verified domains (services/sso.ts) — the org controls that mail anyway.
    emailVerified: true,
    ...(name && { name: name.slice(0, 200) }),
    groups,
    attributes: rest,
  }
}

/**
 * An admin's config, given field by field or as the IdP's metadata XML (`metadataXml`, read into the
 * entity ID, the HTTP-Redirect SSO URL and the signing certificates); fields given beside it win.
 */
export function parseSamlConfig(input: unknown, allowPrivate: boolean): SamlConfig {
  let fields = input
  if (input && typeof input === 'object' && 'metadataXml' in input) {
    const { metadataXml, ...rest } = input as Record<string, unknown>
    if (typeof metadataXml !== 'string' || metadataXml.length > 1_000_000)
      invalid('metadataXml', 'the IdP metadata must be an XML document (at most 1 MB)')
    fields = { ...readIdpMetadata(metadataXml), ...rest }
  }
  const parsed = SamlConfigSchema.safeParse(fields)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: ['config', ...i.path].join('.'),
      message: i.message,
    }))
    const first = issues[0]!
    throw new OrgkitError('VALIDATION_FAILED', `${first.path}: ${first.message}`, {
      field: first.path,
      issues,
    })
  }
  const config = parsed.data
  const url = new URL(config.ssoUrl)
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:'))
    invalid('ssoUrl', 'an IdP SSO URL is reached over https')
  const certificates = config.certificates.map((given, index) => {
    try {
      const body = given.includes('-----BEGIN') ? given : Buffer.from(given.replace(/\s+/g, ''), 'base64')
      return new X509Certificate(body).toString()
    } catch {
      return invalid(`certificates.${index}`, 'not an X.509 certificate (PEM or base64 DER)')
    }
  })
  return { ...config, certificates }
}

function readIdpMetadata(xml: string): Record<string, unknown> {
  const doc = parseXml(xml)
  const entity = doc && elements(doc, NS.metadata, ['EntityDescriptor'])[0]
  const idp = entity && child(entity, NS.metadata, 'IDPSSODescriptor')
  if (!entity || !idp)
    return invalid('metadataXml', 'no EntityDescriptor with an IDPSSODescriptor in the metadata')
  const sso = children(idp, NS.metadata, 'SingleSignOnService').find(
    (s) => s.getAttribute('Binding') === REDIRECT_BINDING,
  )
  const certificates = children(idp, NS.metadata, 'KeyDescriptor')
    .filter((k) => (k.getAttribute('use') ?? 'signing') === 'signing')
    .flatMap((k) => elements(k, NS.dsig, ['X509Certificate']))
    .map((c) => c.textContent?.replace(/\s+/g, '') ?? '')
  return {
    idpEntityId: entity.getAttribute('entityID') ?? '',
    ...(sso && { ssoUrl: sso.getAttribute('Location') }),
    certificates,
  }
}

function time(value: string | null): number | null {
  // xmldom answers '' for an attribute that isn't there.
  if (!value) return null
  const at = Date.parse(value)
  if (Number.isNaN(at)) fail('malformed_response', `not a time: ${value}`)
  return at
}

function fail(reason: string, message: string): never {
  throw new OrgkitError('SSO_FAILED', message, { reason })
}

function invalid(field: string, message: string): never {
  throw new OrgkitError('VALIDATION_FAILED', `config.${field}: ${message}`, { field: `config.${field}` })
}

/** A stable word for what the library refused, for the audit trail and tests (never its raw text). */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : ''
  if (/status|provider returned/i.test(message)) return 'idp_error'
  if (/signature|signed|ID cannot refer|Referenced node|multiple assertions/i.test(message))
    return 'signature_invalid'
  if (/audience/i.test(message)) return 'audience_mismatch'
  if (/assertion/i.test(message)) return 'missing_assertion'
  return 'invalid_response'
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause
  const text = error instanceof Error ? error.message : String(error)
  return cause?.code ? `${text} (${cause.code})` : text
}

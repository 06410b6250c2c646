/**
 * One SSO protocol (OIDC or SAML 2.0) as the rest of Orgkit sees it: start a sign-in at the org's
 * identity provider, then turn what the provider sent back into a verified profile. Everything after
 * that — the account, just-in-time membership, group and role mapping, the session — is the same for
 * both and lives in services/sso.ts.
 */

/** What a provider asserted about the person, after every signature and claim check passed. */
export interface SsoProfile {
  /** The provider's stable id of the person (OIDC `sub`, SAML NameID). */
  subject: string
  email: string
  /** Only a verified email may match an existing account or a verified domain. */
  emailVerified: boolean
  name?: string
  /** Group names from the configured groups claim / attribute (mapped to groups, teams and roles). */
  groups: string[]
  /** Every other claim or attribute, for the mapping screen. */
  attributes: Record<string, unknown>
}

/** A stored connection as a protocol sees it (its config decrypted). */
export interface SsoConnectionRef<Config> {
  id: string
  orgId: string
  config: Config
}

export interface SsoStart {
  /** Where the browser goes next (OIDC authorization URL, SAML HTTP-Redirect binding URL). */
  redirectUrl: string
  /** What the callback needs back, kept server-side with the state (PKCE verifier, SAML request id). */
  pending: Record<string, string>
}

export interface SsoCallback {
  /** The URL the provider sent the browser back to (OIDC: with its query; SAML: the ACS URL). */
  currentUrl: URL
  /** Form or query parameters (SAML HTTP-POST: SAMLResponse and RelayState). */
  params: Record<string, string>
  /** What `start` returned in `pending`, looked up by state / RelayState. */
  pending: Record<string, string>
  state: string
}

export interface SsoProtocol<Config> {
  kind: 'oidc' | 'saml'
  /**
   * The config fields that are secrets (an OIDC client secret, a SAML SP private key): sealed at rest with
   * ctx.secrets, never shown back (the API answers `"<field>Set": true`), kept as they are when a PATCH
   * leaves them out.
   */
  secretFields: readonly string[]
  /** Validates an admin's input (zod); throws OrgkitError VALIDATION with every problem. */
  parseConfig(input: unknown): Config
  /** Contacts the provider where it can (discovery, metadata) so "test connection" says what is wrong. */
  test(connection: SsoConnectionRef<Config>): Promise<{ ok: true } | { ok: false; problem: string }>
  start(
    connection: SsoConnectionRef<Config>,
    options: { callbackUrl: string; state: string },
  ): Promise<SsoStart>
  /** Verifies the provider's answer (signatures, audience, issuer, expiry, replay) or throws SSO_FAILED. */
  finish(connection: SsoConnectionRef<Config>, callback: SsoCallback): Promise<SsoProfile>
}

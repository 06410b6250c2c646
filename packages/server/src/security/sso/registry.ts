import { OrgkitError } from '@orgkit/core'
import type { Db } from '@orgkit/store'
import { createOidcProtocol } from './oidc.ts'
import type { SsoProtocol } from './protocol.ts'
import { createSamlProtocol } from './saml.ts'

export type SsoKind = 'oidc' | 'saml'
export const SSO_KINDS = ['oidc', 'saml'] as const satisfies readonly SsoKind[]

/** What an adapter may need from the server: its clock, and whether it may reach private networks. */
export interface SsoDeps {
  clock: () => number
  /**
   * Admin-given provider URLs may point at loopback / private addresses and plain http (tests, on-prem
   * IdPs). Off in production: "test connection" would otherwise let an org admin probe the internal network.
   */
  allowPrivate: boolean
  /** What an adapter keeps across instances (SAML: the assertion ids already accepted, against replay). */
  db: Db
}

// biome-ignore lint/suspicious/noExplicitAny: each adapter has its own config type; callers go through parseConfig
type AnyProtocol = SsoProtocol<any>

/**
 * kind → adapter. One line per protocol: OIDC (oidc.ts) and SAML 2.0 (saml.ts). An adapter is made once per
 * server (it may cache provider metadata) and used by services/sso.ts only through the SsoProtocol contract.
 */
const FACTORIES: Record<SsoKind, ((deps: SsoDeps) => AnyProtocol) | null> = {
  oidc: createOidcProtocol,
  saml: createSamlProtocol,
}

export interface SsoProtocols {
  /** The adapter of a kind; VALIDATION_FAILED when this server has none for it. */
  get(kind: SsoKind): AnyProtocol
}

export function createSsoProtocols(deps: SsoDeps): SsoProtocols {
  const made = new Map<SsoKind, AnyProtocol>()
  for (const kind of SSO_KINDS) {
    const factory = FACTORIES[kind]
    if (factory) made.set(kind, factory(deps))
  }
  return {
    get(kind) {
      const protocol = made.get(kind)
      if (!protocol)
        throw new OrgkitError('VALIDATION_FAILED', `${kind} connections are not supported yet`, {
          field: 'kind',
        })
      return protocol
    },
  }
}

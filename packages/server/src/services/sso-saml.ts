import { OrgkitError } from '@orgkit/core'
import { sso } from '@orgkit/store'
import { type SamlConfig, samlMetadata } from '../security/sso/saml.ts'
import type { Ctx } from './context.ts'
import { openConnection, ssoUrls } from './sso.ts'

/**
 * The SP metadata of one SAML connection, for its IdP's admin: public like the ACS (the IdP reads it before
 * the connection is enabled), and it holds nothing secret — the entity ID, the ACS URL, what is signed.
 */
export async function samlSpMetadata(ctx: Ctx, connectionId: string): Promise<string> {
  const row = await sso.findConnectionById(ctx.db, connectionId)
  if (row?.kind !== 'saml')
    throw new OrgkitError('SSO_CONNECTION_NOT_FOUND', 'no SAML connection has this id', { connectionId })
  const urls = ssoUrls(ctx, row)
  const connection = openConnection(ctx, row) as { config: SamlConfig }
  return samlMetadata(connection.config, { entityId: urls.metadataUrl!, acsUrl: urls.callbackUrl })
}

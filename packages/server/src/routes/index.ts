import type { RouteModule } from '../env.ts'
import { accountRoutes } from './accounts.ts'
import { apiKeyRoutes } from './api-keys.ts'
import { auditRoutes } from './audit.ts'
import { billingRoutes } from './billing.ts'
import { bindingRoutes } from './bindings.ts'
import { captchaRoutes } from './captcha.ts'
import { checkRoutes } from './check.ts'
import { configRoutes } from './config.ts'
import { creditRoutes } from './credits.ts'
import { domainRoutes } from './domains.ts'
import { engineRoutes } from './engine.ts'
import { entityChangeRoutes } from './entity-changes.ts'
import { groupRoutes } from './groups.ts'
import { hostSessionRoutes } from './host-session.ts'
import { invitationRoutes } from './invitations.ts'
import { invoiceRoutes } from './invoices.ts'
import { memberRoutes } from './members.ts'
import { mfaRoutes } from './mfa.ts'
import { orgRoutes } from './orgs.ts'
import { outboxRoutes } from './outbox.ts'
import { overrideRoutes } from './overrides.ts'
import { resourceRoutes } from './resources.ts'
import { roleRoutes } from './roles.ts'
import { scimTokenRoutes } from './scim-tokens.ts'
import { securityRoutes } from './security.ts'
import { ssoRoutes } from './sso.ts'
import { ssoSamlRoutes } from './sso-saml.ts'
import { usageRoutes } from './usage.ts'
import { userRoutes } from './users.ts'
import { webhookRoutes } from './webhooks.ts'

/** Every route module, one per resource, in the order the OpenAPI document lists them. */
export const routeModules: readonly RouteModule[] = [
  userRoutes,
  accountRoutes,
  hostSessionRoutes,
  mfaRoutes,
  apiKeyRoutes,
  captchaRoutes,
  orgRoutes,
  memberRoutes,
  invitationRoutes,
  outboxRoutes,
  securityRoutes,
  ssoRoutes,
  ssoSamlRoutes,
  scimTokenRoutes,
  domainRoutes,
  resourceRoutes,
  entityChangeRoutes,
  overrideRoutes,
  roleRoutes,
  bindingRoutes,
  groupRoutes,
  configRoutes,
  auditRoutes,
  webhookRoutes,
  billingRoutes,
  creditRoutes,
  invoiceRoutes,
  usageRoutes,
  checkRoutes,
  engineRoutes,
]

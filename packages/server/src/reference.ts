import { readFileSync } from 'node:fs'
import { mountDocs } from './docs-page.ts'
import type { App } from './env.ts'
import { documentWebhookEvents } from './webhooks/events.ts'

/** This package's version (package.json sits one folder above src/ and dist/ alike). */
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string
}

/** The reference's sections, in order (every route's tag is one; test/openapi.contract.test.ts holds that). */
export const TAGS: readonly (readonly [string, string])[] = [
  ['Authorization', 'May this person do this here? Checks, batches, explanations, lists of what and whom'],
  ['Users', "The product's users, provisioned by its platform token or signed up"],
  ['Organizations', 'Organizations and sub-organizations'],
  ['Members', "An organization's members and their organization roles"],
  ['Invitations', 'Invitations by email, their links and acceptance'],
  ['Groups', 'Groups of members, and the roles they hold together'],
  ['Roles', "The model (its roles, permissions and resource types) and an organization's custom roles"],
  ['Bindings', 'Roles given to a user or a group at an organization or a resource'],
  [
    'Resources',
    "The model's resources (apps, channels…): who reaches them, and their allow / deny overrides",
  ],
  ['Accounts', 'Sign-up, email verification, password reset, sign-in, sessions, second factors, API keys'],
  ['Security', "An organization's security policies (two-factor, passwords) and the API keys that reach it"],
  ['SSO', "An organization's single sign-on connections (OpenID Connect, SAML)"],
  ['Directory sync', 'SCIM directory tokens: an identity provider keeps members and groups in step'],
  ['Domains', "An organization's verified email domains, and joining an organization through them"],
  ['Audit', "An organization's audit log: entries, export and the hash chain's verification"],
  ['Webhooks', "An organization's webhook endpoints and their deliveries"],
  ['Webhook events', 'The events Orgkit sends to webhook endpoints (Standard Webhooks)'],
  ['Billing', 'Plans, usage, invoices and billing roles'],
  ['Mail', 'The local outbox: mail waiting where no SMTP server is set'],
  ['Config as code', "An organization's configuration as one document: export, plan and apply"],
  ['Engine feed', 'The change feed other instances and replicas follow to keep their engine exact'],
]

/**
 * The API's reference: the OpenAPI 3.1 document at /v1/openapi.json (routes document themselves through
 * their zod schemas; this adds what belongs to the whole API: who may call, where, and the webhook
 * events) and its rendered page at /v1/docs. test/openapi.contract.test.ts lints it (Redocly, recommended).
 */
export function documentApi(app: App): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description:
      'A platform token (`okp_…`, the host product; with `X-Orgkit-User` it acts as one of its users), ' +
      "a user's API key (`okk_…`), or the host product's JWT for a person",
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: 'orgkit_session',
    description: 'A signed-in session (the console); writes echo the `orgkit_csrf` cookie in `X-Orgkit-CSRF`',
  })
  documentWebhookEvents(app)
  app.doc31('/v1/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Orgkit',
      version,
      license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
      description:
        'Organizations, members, roles, overrides and a permission engine. Errors are RFC 9457 ' +
        'problem+json with a stable `code`. Every write answers with a `revision`: pass it as ' +
        '`atLeastRevision` and a check is never answered from older state.',
    },
    servers: [
      { url: '/', description: 'The server serving this document' },
      { url: 'http://127.0.0.1:3000', description: 'A local `npx orgkit start` (PORT, HOST)' },
    ],
    security: [{ bearer: [] }, { session: [] }],
    // In this order in the reference: what a host product calls first, then what manages it, then the rest.
    tags: TAGS.map(([name, description]) => ({ name, description })),
  })
  mountDocs(app)
}

import { readFileSync } from 'node:fs'
import { mountDocs } from './docs-page.ts'
import type { App } from './env.ts'
import { documentWebhookEvents } from './webhooks/events.ts'

/** This package's version (package.json sits one folder above src/ and dist/ alike). */
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string
}

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
  })
  mountDocs(app)
}

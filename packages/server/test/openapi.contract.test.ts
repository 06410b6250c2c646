import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ERRORS } from '@orgkit/core'
import { createConfig, lintFromString } from '@redocly/openapi-core'
import pino from 'pino'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.ts'
import type { Ctx } from '../src/services/context.ts'
import { WEBHOOK_EVENTS } from '../src/webhooks/events.ts'
import { traceRateLimits } from './support/rate-limit-trace.ts'

interface Operation {
  operationId?: string
  tags?: string[]
  summary?: string
  description?: string
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>
}
interface Media {
  schema?: { $ref?: string; properties?: { type?: { enum?: string[] } } }
  example?: unknown
}
interface Document {
  tags?: { name: string; description?: string }[]
  servers?: { url: string }[]
  paths: Record<string, Record<string, Operation>>
  webhooks: Record<string, { post: Operation & { requestBody: { content: Record<string, Media> } } }>
  components: { schemas: Record<string, { enum?: string[]; example?: unknown }> }
}

/**
 * The audited actions the server writes for an org (each one a webhook event, webhooks/outbox.ts): the
 * `action: '…'` literals under src/ whose audit entry does not say `orgId: null`.
 */
function orgAuditActions(): Set<string> {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    )
  const actions = new Set<string>()
  for (const file of files(join(import.meta.dirname, '../src'))) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/action: '([a-z_]+(?:\.[a-z_]+)+)'/g)) {
      const entry = text.slice(text.lastIndexOf('({', m.index), text.indexOf('})', m.index))
      if (!/orgId: null\b/.test(entry)) actions.add(m[1]!)
    }
  }
  return actions
}

/**
 * Issue 18's typed contract, held on the document the app serves: every operation named and described,
 * names unique, the problem's code the catalogue's enum, and a 429 on exactly the operations whose code
 * can reach the rate limiter (traced in the source by support/rate-limit-trace.ts).
 */
describe('the OpenAPI document', () => {
  let doc: Document
  let source: string
  let operations: { route: string; op: Operation }[]
  beforeAll(async () => {
    // Building the app only registers the routes' schemas: no database, nothing listening.
    const ctx = { settings: { trustProxyHops: 0 } } as unknown as Ctx
    const response = await createApp({ ctx, logger: pino({ level: 'silent' }) }).request('/v1/openapi.json')
    expect(response.status).toBe(200)
    source = await response.text()
    doc = JSON.parse(source) as Document
    operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })),
    )
  })

  // A new user's reference opened on "Webhook events" (the order tags were first met in): declared, in order.
  it('sorts the reference by what a host product calls first, every operation under a declared section', () => {
    const declared = (doc.tags ?? []).map((t) => t.name)
    expect(declared.slice(0, 4)).toEqual(['Authorization', 'Users', 'Organizations', 'Members'])
    expect((doc.tags ?? []).filter((t) => !t.description?.trim())).toEqual([])
    const used = [...operations.map(({ op }) => op), ...Object.values(doc.webhooks).map((w) => w.post)]
    const undeclared = used.flatMap((op) => (op.tags ?? ['(none)']).filter((t) => !declared.includes(t)))
    expect([...new Set(undeclared)]).toEqual([])
    // And no section is left empty.
    expect(declared.filter((t) => !used.some((op) => op.tags?.includes(t)))).toEqual([])
  })

  it('gives every operation a camelCase operationId, a summary and a one-line description', () => {
    expect(operations.length).toBeGreaterThan(80)
    const lacking = operations
      .filter(
        ({ op }) =>
          !/^[a-z]+(?:[A-Z][a-z0-9]*)*$/.test(op.operationId ?? '') ||
          !op.summary?.trim() ||
          !op.description?.trim() ||
          op.description.includes('\n'),
      )
      .map(({ route, op }) => `${route}: ${JSON.stringify([op.operationId, op.summary, op.description])}`)
    expect(lacking).toEqual([])
  })

  it('never repeats an operationId (the SDK names its operations by them)', () => {
    const ids = operations.map(({ op }) => op.operationId)
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([])
  })

  it("types a problem's code as the catalogue's enum, INTERNAL (the 500) beside it", () => {
    expect(doc.components.schemas.ErrorCode?.enum).toEqual([...Object.keys(ERRORS), 'INTERNAL'])
    const codeRef = (doc.components.schemas.Problem as { properties: { code: { $ref: string } } }).properties
      .code.$ref
    expect(codeRef).toBe('#/components/schemas/ErrorCode')
    const untyped = operations.flatMap(({ route, op }) =>
      Object.entries(op.responses)
        .filter(([status]) => Number(status) >= 400)
        .filter(
          ([, r]) => r.content?.['application/problem+json']?.schema?.$ref !== '#/components/schemas/Problem',
        )
        .map(([status]) => `${route} ${status}`),
    )
    expect(untyped).toEqual([])
  })

  it('declares 429 on exactly the operations that can answer RATE_LIMITED', () => {
    const trace = traceRateLimits()
    const anyRoute = trace.middleware.length > 0
    const mismatched = operations.flatMap(({ route, op }) => {
      const chain = trace.operations.get(op.operationId ?? '') ?? (anyRoute ? trace.middleware[0] : undefined)
      const declared = '429' in op.responses
      if (chain && !declared)
        return [`${route} can answer RATE_LIMITED (${chain.join(' → ')}) but declares no 429`]
      if (!chain && declared) return [`${route} declares 429, yet nothing it calls reaches RATE_LIMITED`]
      return []
    })
    expect(mismatched).toEqual([])
    // The trace itself works: sign-in is rate limited per address and per account (SPEC 3).
    expect(trace.operations.get('signIn')).toBeDefined()
  }, 180_000) // the trace type-checks the server's and the store's source: ~5 s of CPU

  // Issue 24.4: what a third-party validator says, with the rules a reader of the reference relies on.
  it("passes Redocly's recommended rules with no error and no warning", async () => {
    const config = await createConfig({ extends: ['recommended'] })
    const problems = await lintFromString({ source, absoluteRef: '/v1/openapi.json', config })
    expect(
      problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`),
    ).toEqual([])
  })

  it('names its servers and shows examples of the main schemas and of every authorization call', () => {
    expect(doc.servers?.length).toBeGreaterThan(0)
    const main = [
      'Org',
      'Member',
      'Resource',
      'Binding',
      'Override',
      'Role',
      'User',
      'Problem',
      'AuditEventData',
    ]
    expect(main.filter((name) => doc.components.schemas[name]?.example === undefined)).toEqual([])
    const authorization = [
      '/v1/check',
      '/v1/check/batch',
      '/v1/list-resources',
      '/v1/list-principals',
      '/v1/explain',
    ]
    const lacking = authorization.filter((path) => {
      const op = doc.paths[path]?.post as
        | (Operation & { requestBody: { content: Record<string, Media> } })
        | undefined
      const response = op?.responses['200'] as { content?: Record<string, Media> } | undefined
      return (
        op?.requestBody.content['application/json']?.example === undefined ||
        response?.content?.['application/json']?.example === undefined
      )
    })
    expect(lacking).toEqual([])
  })

  it('documents one webhook per event type of the catalogue, each with its payload, and every org action is one', () => {
    const expected = [...Object.keys(WEBHOOK_EVENTS), 'audit.checkpoint'].sort()
    expect(Object.keys(doc.webhooks).sort()).toEqual(expected)
    for (const [type, { post }] of Object.entries(doc.webhooks)) {
      const payload = post.requestBody.content['application/json']?.schema
      expect(payload?.properties?.type?.enum, type).toEqual([type])
    }
    const uncatalogued = [...orgAuditActions()].filter((action) => !(action in WEBHOOK_EVENTS))
    expect(uncatalogued).toEqual([])
    expect(orgAuditActions().has('member.added')).toBe(true) // the scan itself finds them
  })
})

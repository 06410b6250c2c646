import { ERRORS } from '@orgkit/core'
import pino from 'pino'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.ts'
import type { Ctx } from '../src/services/context.ts'
import { traceRateLimits } from './support/rate-limit-trace.ts'

interface Operation {
  operationId?: string
  summary?: string
  description?: string
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>
}
interface Document {
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, { enum?: string[] }> }
}

/**
 * Issue 18's typed contract, held on the document the app serves: every operation named and described,
 * names unique, the problem's code the catalogue's enum, and a 429 on exactly the operations whose code
 * can reach the rate limiter (traced in the source by support/rate-limit-trace.ts).
 */
describe('the OpenAPI document', () => {
  let doc: Document
  let operations: { route: string; op: Operation }[]
  beforeAll(async () => {
    // Building the app only registers the routes' schemas: no database, nothing listening.
    const ctx = { settings: { trustProxyHops: 0 } } as unknown as Ctx
    const response = await createApp({ ctx, logger: pino({ level: 'silent' }) }).request('/v1/openapi.json')
    expect(response.status).toBe(200)
    doc = (await response.json()) as Document
    operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })),
    )
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
  }, 180_000) // the trace type-checks the server's and the store's source: ~10 s of CPU
})

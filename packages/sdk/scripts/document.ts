import openapiTS, { astToString } from 'openapi-typescript'
import pino from 'pino'
import { createApp } from '../../server/src/app.ts'
import type { Ctx } from '../../server/src/services/context.ts'

/**
 * The OpenAPI document exactly as the app serves it, built in-process: the routes only register their
 * schemas here, so no database or listening server is needed (the context is never touched).
 */
export async function servedDocument(): Promise<Record<string, unknown>> {
  const ctx = { settings: { trustProxyHops: 0 } } as unknown as Ctx
  const app = createApp({ ctx, logger: pino({ level: 'silent' }) })
  const response = await app.request('/v1/openapi.json')
  if (response.status !== 200) throw new Error(`openapi.json answered ${response.status}`)
  return (await response.json()) as Record<string, unknown>
}

/** The SDK's `schema.ts` (types only), generated from the served document. */
export async function generatedSchema(): Promise<string> {
  const ast = await openapiTS((await servedDocument()) as never)
  return `// Generated from Orgkit's OpenAPI document by packages/sdk/scripts/generate.ts. Do not edit.\n${astToString(ast)}`
}
